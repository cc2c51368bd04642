import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './app-config';

/** A YAML document's text and the name its parse and validation errors cite. */
export interface DataDocument {
  text: string;
  source: string;
}

/**
 * tsc copies no YAML into dist/, so a built-in data file is read from src/ whichever tree runs:
 * next to the module under jest (`dir` is src/<subdir>), or `../../src/<subdir>` from
 * dist/<subdir>. A Docker image therefore needs the src/<subdir> YAML beside `dist/` (or copied
 * into dist/<subdir>).
 */
export function builtinDataPath(dir: string, subdir: string, file: string): string {
  const candidates = [join(dir, file), join(dir, '..', '..', 'src', subdir, file)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new ConfigError(`${file} not found; looked in ${candidates.join(', ')}`);
  return found;
}

/**
 * The operator's file named by the `label` variable (PROVIDERS_FILE, PRICES_FILE), or undefined
 * when it is unset. An unreadable file stops start-up rather than silently using the built-ins.
 */
export function readOverrideFile(
  label: string,
  path: string | undefined,
): DataDocument | undefined {
  if (!path) return undefined;
  const source = `${label} (${path})`;
  try {
    return { text: readFileSync(path, 'utf8'), source };
  } catch (err) {
    throw new ConfigError(`${source}: cannot read: ${(err as Error).message}`);
  }
}
