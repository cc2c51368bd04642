#!/usr/bin/env node
// CPU time per request: what each proxy spends on one request, read from the kernel's
// per-process and per-thread counters (/proc/<pid>/stat, /proc/<pid>/task/<tid>/stat) around a
// fixed number of requests. Unlike req/s, this barely moves when other programs share the
// machine, so it compares code, not luck. `main thread` is the event loop (what bounds
// throughput when it is the busy one); `process` adds every other thread (the embedded
// database's worker, GC helpers, libuv).
//
//   node bench/cpu.mjs [--requests 20000] [--connections 16] [--rounds 3] [--targets bare,byok,byok-tracing]
//                      [--log-levels warn,info] [--env KEY=VALUE,...]  (env for byok-proxy only)
//
// Rounds alternate the targets; each row reports the median round.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { load } from './lib/measure.mjs';
import { onExit, stopAll } from './lib/processes.mjs';
import { byokTarget, startDouble, TARGETS } from './lib/targets.mjs';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    targets: { type: 'string', default: 'bare,byok' },
    'log-levels': { type: 'string', default: 'warn,info' },
    env: { type: 'string', default: '' },
  },
});

const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux
/** utime + stime of a /proc stat line, in µs (fields 14 and 15; the name may hold spaces). */
function cpuOf(statFile) {
  const fields = readFileSync(statFile, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}
const cpu = (pid) => ({
  main: cpuOf(`/proc/${pid}/task/${pid}/stat`),
  all: cpuOf(`/proc/${pid}/stat`),
  threads: readdirSync(`/proc/${pid}/task`).length,
});

const work = mkdtempSync(join(tmpdir(), 'byok-cpu-'));
const ctx = {
  work,
  logDir: join(work, 'logs'),
  dataDir: join(work, 'data'),
  stream: { chunks: 10, chunkDelayMs: 5 },
  log: () => {},
  nodeArgs: [],
  byokEnv: Object.fromEntries(
    args.env
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ),
};
mkdirSync(ctx.logDir);
mkdirSync(ctx.dataDir);
onExit(() => rmSync(work, { recursive: true, force: true }));

const wanted = args.targets.split(',');
const entries = [];
if (wanted.includes('bare')) entries.push(TARGETS.bare);
if (wanted.includes('byok'))
  for (const level of args['log-levels'].split(',')) entries.push(byokTarget(level));
if (wanted.includes('byok-tracing'))
  for (const level of args['log-levels'].split(','))
    entries.push(byokTarget(level, { tracing: true }));

try {
  ctx.double = await startDouble(ctx);
  const rows = [];
  for (const entry of entries) rows.push({ entry, target: await entry.start(ctx), rounds: [] });
  const amount = Number(args.requests);
  const connections = Number(args.connections);
  for (const row of rows) await load(row.target, { amount: 2000, connections }); // warm-up
  for (let r = 0; r < Number(args.rounds); r++)
    for (const row of r % 2 ? [...rows].reverse() : rows) {
      const pid = row.target.proc.pid;
      const before = cpu(pid);
      const done = await load(row.target, { amount, connections });
      const after = cpu(pid);
      row.threads = after.threads;
      row.rounds.push({
        main: (after.main - before.main) / done.total,
        all: (after.all - before.all) / done.total,
      });
    }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bare = rows.find((r) => r.entry === TARGETS.bare);
  const baseline = bare && median(bare.rounds.map((x) => x.all));
  console.log(
    `\nCPU per request, ${amount} requests at c=${connections}, median of ${args.rounds} rounds` +
      (ctx.byokEnv && Object.keys(ctx.byokEnv).length ? ` (byok-proxy env: ${args.env})` : '') +
      '\n',
  );
  console.log('| target | main thread | process | threads | process vs bare |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) {
    const main = median(row.rounds.map((x) => x.main));
    const all = median(row.rounds.map((x) => x.all));
    const ratio = baseline ? `${(all / baseline).toFixed(2)}×` : '—';
    console.log(
      `| ${row.entry.label} | ${main.toFixed(0)} µs | ${all.toFixed(0)} µs | ${row.threads} | ${ratio} |`,
    );
  }
} finally {
  await stopAll();
}
