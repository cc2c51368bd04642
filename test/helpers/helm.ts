import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Helm on PATH or in $(go env GOPATH)/bin, where scripts/install-test-deps.sh builds it. */
export function findHelm(): string {
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim();
  const dirs = [...(process.env.PATH ?? '').split(delimiter), gopath ? join(gopath, 'bin') : ''];
  const found = dirs.filter((d) => d !== '').map((d) => join(d, 'helm'));
  const helm = found.find((p) => existsSync(p));
  if (!helm)
    throw new Error(
      'helm not found on PATH or in $(go env GOPATH)/bin: run scripts/install-test-deps.sh',
    );
  return helm;
}
