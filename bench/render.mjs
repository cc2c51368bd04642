#!/usr/bin/env node
// Re-renders a report from the raw numbers of a run, without running anything:
//
//   node bench/render.mjs [bench/results/latest.json]   → writes the .md beside it and prints it
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from './lib/report.mjs';
import { ROOT } from './lib/targets.mjs';

const file = process.argv[2] ?? join(ROOT, 'bench/results/latest.json');
const md = render(JSON.parse(readFileSync(file, 'utf8')));
writeFileSync(file.replace(/\.json$/, '.md'), `${md}\n`);
process.stdout.write(`${md}\n`);
