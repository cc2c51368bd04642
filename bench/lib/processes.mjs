// Every process the benchmark starts goes through here, so that all of them are stopped on
// the way out: normal end, thrown error, Ctrl-C or SIGTERM. (Only a SIGKILL of the runner
// itself can leave them behind; nothing can catch that.)
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

const running = new Set();
const cleanups = [];

/** A synchronous clean-up (say, removing a temp dir) to run however the runner exits. */
export function onExit(fn) {
  cleanups.push(fn);
}

function runCleanups() {
  while (cleanups.length) {
    try {
      cleanups.pop()();
    } catch {
      // best effort on the way out
    }
  }
}

export class ProcessError extends Error {}

/**
 * Starts `command args` with stdout and stderr appended to `logFile` (a file, not a pipe: the
 * runner never spends CPU reading a server's logs, and a chatty server never blocks on a full
 * pipe). Resolves once it is spawned; use waitForHttp() for readiness. With `ipc`, the child
 * also gets a Node IPC channel (`process.send`, `child.on('message')`).
 */
export function start(name, command, args, { env, cwd, logFile, ipc = false }) {
  const fd = openSync(logFile, 'a');
  const stdio = ['ignore', fd, fd, ...(ipc ? ['ipc'] : [])];
  const child = spawn(command, args, { env, cwd, stdio });
  closeSync(fd);
  const proc = { name, child, pid: child.pid, logFile, exit: undefined };
  proc.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exit = { code, signal };
      running.delete(proc);
      resolve(proc.exit);
    });
    child.once('error', (error) => {
      proc.exit = { error };
      running.delete(proc);
      resolve(proc.exit);
    });
  });
  running.add(proc);
  return proc;
}

export function assertAlive(proc) {
  if (proc.exit)
    throw new ProcessError(
      `${proc.name} exited (${describeExit(proc.exit)}); last log lines:\n${tail(proc.logFile)}`,
    );
}

const describeExit = (e) => (e.error ? e.error.message : `code ${e.code}, signal ${e.signal}`);

export function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `url` until it answers 2xx, the process dies, or `timeoutMs` passes. */
export async function waitForHttp(proc, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    assertAlive(proc);
    try {
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (res.statusCode < 300) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new ProcessError(
        `${proc.name} did not answer ${url} within ${timeoutMs} ms; last log lines:\n${tail(proc.logFile)}`,
      );
    await sleep(100);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stop(proc, graceMs = 5000) {
  if (proc.exit) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

export const stopAll = () => Promise.all([...running].map((p) => stop(p)));

function killAllNow() {
  for (const p of running) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size of a live process, in MiB (Linux /proc). */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return kb / 1024;
}

process.once('exit', () => {
  killAllNow();
  runCleanups();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping ${running.size} benchmark process(es)\n`);
    stopAll().finally(() => {
      runCleanups();
      process.exit(130);
    });
  });
}
