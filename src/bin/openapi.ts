import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { buildOpenApi } from '../openapi';

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** Writes openapi.yaml (sorted keys); with --check, fails when the committed file differs. */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'byok-openapi-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const app = await createApp(config, { logDestination: sink });
  const yaml = stringify(sortKeys(buildOpenApi(app)), { aliasDuplicateObjects: false });
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
  const file = resolve(__dirname, '../../openapi.yaml');
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      /* missing counts as drift */
    }
    if (current !== yaml) {
      process.stderr.write('openapi.yaml is out of date: run `npm run openapi` and commit it\n');
      process.exit(1);
    }
    process.stdout.write('openapi.yaml is up to date\n');
    return;
  }
  writeFileSync(file, yaml);
  process.stdout.write(`wrote ${file}\n`);
}

void main();
