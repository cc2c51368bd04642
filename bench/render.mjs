#!/usr/bin/env node
// Re-renders a report from the raw numbers of a run, without running anything:
//
//   node bench/render.mjs [bench/results/latest.json]   → writes the .md beside it and prints it
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { render, writeReport } from './lib/report.mjs';
import { ROOT } from './lib/targets.mjs';

const file = process.argv[2] ?? join(ROOT, 'bench/results/latest.json');
const md = render(JSON.parse(readFileSync(file, 'utf8')));
writeReport(file.replace(/\.json$/, '.md'), md);
process.stdout.write(`${md}\n`);
