#!/usr/bin/env node
// One command for the whole benchmark: `node bench/run.mjs [--quick]` (see bench/README.md).
// Starts the upstream double and every target in its own process, then measures them side by
// side: each phase runs in rounds, and each round visits every target in turn (the starting
// target rotates), so background load that comes and goes on the machine is spread over all
// targets instead of landing on one. Prints the Markdown report and writes it to
// bench/results/latest.md (raw numbers beside it as latest.json). Every process it started is
// stopped on the way out, whatever happens.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { latency, load, streaming, summarise, throughput } from './lib/measure.mjs';
import { assertAlive, onExit, rssMiB, stopAll } from './lib/processes.mjs';
import { holdSessions, measureRealtime, summariseRealtime } from './lib/realtime.mjs';
import { render, writeReport } from './lib/report.mjs';
import { PROVIDER_KEY, ROOT, TARGETS, byokTarget, startDouble } from './lib/targets.mjs';
import { SAMPLED_RATIO } from './lib/tracing-cost.mjs';
import { startUsageMicro } from './lib/usage-micro.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    targets: { type: 'string' },
    'log-levels': { type: 'string' },
    out: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`node bench/run.mjs [--quick]
       [--targets direct,bare,portkey,litellm,byok,byok-limits,byok-tracing,byok-tracing-sampled,
//                  usage-micro,byok-pg]
       [--log-levels warn,info] [--out bench/results/latest.md|quick.md] [--keep-logs]\n`);
  process.exit(0);
}

const quick = args.quick;
// A quick run never overwrites the committed full report.
args.out ??= join(ROOT, `bench/results/${quick ? 'quick' : 'latest'}.md`);
const params = {
  mode: quick ? 'quick' : 'full',
  // per target: `rounds` × `requests`, after `warmup` requests in the first round
  latency: quick
    ? { rounds: 2, warmup: 200, requests: 300 }
    : { rounds: 5, warmup: 2000, requests: 1000 },
  concurrency: [1, 16, 64],
  // per target and concurrency: `rounds` × `duration` seconds, after one warm-up at the top
  throughput: quick
    ? { rounds: 1, duration: 1, warmupSeconds: 0.5 }
    : { rounds: 2, duration: 5, warmupSeconds: 3 },
  stream: { chunks: 10, chunkDelayMs: 5 },
  streaming: quick ? { rounds: 1, warmup: 3, streams: 15 } : { rounds: 4, warmup: 20, streams: 50 },
  rss: quick ? undefined : { first: 10_000, total: 100_000, connections: 32 },
  // realtime: per round, sessions set up one by one and round trips on one session; then
  // `concurrent` sessions held at once (byok-proxy's first row only)
  realtime: quick
    ? { rounds: 1, warmup: 10, sessions: 30, messages: 200, concurrent: 200 }
    : { rounds: 3, warmup: 30, sessions: 100, messages: 1000, concurrent: 200 },
  // the in-process usage/limits micro-benchmark: per user (limits unset / set)
  micro: { iterations: 20_000, warmup: 2_000 },
  logLevels: (args['log-levels'] ?? (quick ? 'warn' : 'warn,info')).split(','),
};
const ALL = [
  'direct',
  'bare',
  'portkey',
  'litellm',
  'byok',
  'byok-limits',
  'byok-tracing',
  'byok-tracing-sampled',
  'usage-micro',
  'byok-pg',
];
const wanted = new Set(
  (
    args.targets ??
    `direct,bare,portkey,byok,byok-limits,byok-tracing,usage-micro${quick ? '' : ',byok-tracing-sampled,litellm,byok-pg'}`
  ).split(','),
);
const plan = [
  ...['direct', 'bare', 'portkey', 'litellm']
    .filter((k) => wanted.has(k))
    .map((k) => ({ key: k, ...TARGETS[k] })),
  ...(wanted.has('byok')
    ? params.logLevels.map((l) => ({ key: `byok-${l}`, ...byokTarget(l) }))
    : []),
  ...(wanted.has('byok-limits')
    ? [{ key: 'byok-limits', ...byokTarget('warn', { limits: true }) }]
    : []),
  ...(wanted.has('byok-tracing')
    ? [{ key: 'byok-tracing', ...byokTarget('warn', { tracing: true }) }]
    : []),
  ...(wanted.has('byok-tracing-sampled')
    ? [{ key: 'byok-tracing-sampled', ...byokTarget('warn', { tracing: SAMPLED_RATIO }) }]
    : []),
  ...(wanted.has('byok-pg')
    ? [{ key: 'byok-pg-warn', ...byokTarget('warn', { servers: true }) }]
    : []),
];
const unknown = [...wanted].filter((k) => !ALL.includes(k));
if (unknown.length) {
  process.stderr.write(`unknown target(s) ${unknown.join(', ')}: use ${ALL.join(', ')}\n`);
  process.exit(2);
}

const started = performance.now();
const work = mkdtempSync(join(tmpdir(), 'byok-bench-'));
const ctx = {
  work,
  logDir: join(work, 'logs'),
  dataDir: join(work, 'data'),
  stream: params.stream,
  // byok-proxy only: SIGUSR2 forces a full GC before each RSS reading (servers/gc-on-signal.mjs).
  log: (msg) => log(msg),
  nodeArgs: ['--expose-gc', '--import', join(ROOT, 'bench/servers/gc-on-signal.mjs')],
  byokEnv: {},
};
mkdirSync(ctx.logDir);
mkdirSync(ctx.dataDir);
let keepLogs = args['keep-logs'];
onExit(() => {
  // The databases can be hundreds of MB: they never outlive the run. Logs do when asked or
  // when something failed.
  if (keepLogs) {
    rmSync(ctx.dataDir, { recursive: true, force: true });
    log(`logs kept in ${ctx.logDir}`);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
});

const log = (msg) =>
  process.stderr.write(`[bench +${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
const loadAtStart = loadavg()[0];
/** One per planned target: its result row plus, while it runs, the started target. */
const rows = plan.map((entry) => ({
  entry,
  target: undefined,
  result: { key: entry.key, label: entry.label, byok: !!entry.byok },
  latency: [],
  ttfb: [],
  ttlb: [],
  lag: [],
  rounds: Object.fromEntries(params.concurrency.map((c) => [c, []])),
}));
const live = () => rows.filter((r) => r.target && !r.result.error);
/** The in-process micro-benchmark's result (or error), when it is planned. */
const micro = wanted.has('usage-micro') ? {} : undefined;

function fail(row, e) {
  row.result.error = e.message;
  log(`${row.entry.label} FAILED: ${e.message}`);
}

const rss = (row) => (row.target?.proc ? rssMiB(row.target.proc.pid) : NaN);

/**
 * Median of 5 readings over 2 s: one reading lands anywhere in a GC cycle. byok-proxy runs a
 * full GC first (SIGUSR2, see ctx.nodeArgs).
 */
async function settledRss(row) {
  if (row.entry.byok) row.target.proc.child.kill('SIGUSR2');
  const readings = [];
  for (let i = 0; i < 5; i++) {
    await sleep(400);
    readings.push(rss(row));
  }
  return readings.sort((a, b) => a - b)[2];
}

async function startTarget(row) {
  const t0 = performance.now();
  if (row.entry.skip) {
    row.result.skipped = row.entry.skip;
    log(`${row.entry.label}: skipped (${row.entry.skip})`);
    return;
  }
  try {
    row.target = await row.entry.start(ctx);
    row.result.proc = !!row.target.proc;
    row.result.startSeconds = (performance.now() - t0) / 1000;
    row.result.readySeconds = row.target.readySeconds;
    log(`${row.entry.label}: ready in ${row.result.startSeconds.toFixed(1)} s`);
  } catch (e) {
    fail(row, e);
  }
}

/** Runs `fn` for every live target, `rounds` times, rotating who goes first. */
async function inRounds(name, rounds, fn) {
  for (let round = 0; round < rounds; round++) {
    const order = live();
    const shift = round % Math.max(order.length, 1);
    for (const row of [...order.slice(shift), ...order.slice(0, shift)]) {
      try {
        if (row.target.proc) assertAlive(row.target.proc);
        await fn(row, round);
      } catch (e) {
        fail(row, new Error(`${name}: ${e.message}`));
      }
    }
  }
}

function ensureBuilt() {
  if (existsSync(join(ROOT, 'dist/main.js'))) return;
  log('dist/main.js is missing: building byok-proxy (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

function meta() {
  let commit = 'unknown commit';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    if (dirty) commit += ' (uncommitted changes)';
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.versions.node,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    commit,
    loadAverage: { start: loadAtStart, end: loadavg()[0] },
    seconds: (performance.now() - started) / 1000,
  };
}

/** Boots the micro-benchmark's app (alongside the byok-proxy targets); never throws. */
async function startMicro() {
  try {
    const m = await startUsageMicro(ctx, params.micro);
    micro.startSeconds = m.startSeconds;
    log(`usage micro-benchmark: app ready in ${m.startSeconds.toFixed(1)} s`);
    return m;
  } catch (e) {
    micro.error = e.message;
    log(`usage micro-benchmark FAILED: ${e.message}`);
    return undefined;
  }
}

/** Runs it while every server is idle. */
async function runMicro(m) {
  if (!m) return;
  const { iterations, warmup } = params.micro;
  log(`usage micro-benchmark: ${warmup} + ${iterations} requests per user, limits unset and set`);
  try {
    Object.assign(micro, await m.measure());
    log(`usage micro-benchmark: done in ${micro.seconds.toFixed(1)} s`);
  } catch (e) {
    micro.error = e.message;
    log(`usage micro-benchmark FAILED: ${e.message}`);
  }
}

/** Realtime against the first byok-proxy row; the result goes in the report's own section. */
let realtime;
async function runRealtime() {
  const row = live().find((r) => r.entry.byok);
  if (!row) return;
  const P = params.realtime;
  realtime = { label: row.entry.label, params: P };
  const ws = (origin) => origin.replace(/^http/, 'ws');
  const direct = {
    url: `${ws(ctx.double.origin)}/v1/realtime?model=gpt-realtime`,
    headers: { authorization: `Bearer ${PROVIDER_KEY}` },
  };
  const byok = {
    url: `${ws(row.target.origin)}/v1/realtime?model=openai/gpt-realtime`,
    headers: { authorization: row.target.headers.authorization },
  };
  log(`realtime: ${P.rounds} rounds, then ${P.concurrent} sessions held on ${row.entry.label}`);
  try {
    const raw = { direct: { setup: [], rtt: [] }, byok: { setup: [], rtt: [] } };
    for (let round = 0; round < P.rounds; round++)
      for (const which of round % 2 ? ['byok', 'direct'] : ['direct', 'byok']) {
        const r = await measureRealtime(which === 'byok' ? byok : direct, P);
        raw[which].setup.push(...r.setup);
        raw[which].rtt.push(...r.rtt);
      }
    realtime.direct = summariseRealtime(raw.direct);
    realtime.byok = summariseRealtime(raw.byok);
    const rssBefore = await settledRss(row);
    const release = await holdSessions(byok, P.concurrent);
    const rssHeld = await settledRss(row);
    await release();
    realtime.held = { count: P.concurrent, rssBefore, rssHeld };
  } catch (e) {
    realtime.error = e.message;
    log(`realtime FAILED: ${e.message}`);
  }
}

async function main() {
  if (plan.some((p) => p.byok) || micro) ensureBuilt();
  log(
    `mode ${params.mode}; targets ${[...plan.map((p) => p.key), ...(micro ? ['usage-micro'] : [])].join(', ')}; work dir ${work}`,
  );
  ctx.double = await startDouble(ctx);
  // One at a time, so each start-up time is that target's own (booting the byok-proxy rows at
  // once measured the machine's contention: each creates its own PGlite database).
  for (const row of rows) await startTarget(row);
  const microApp = micro ? await startMicro() : undefined;
  for (const row of live()) row.result.rss = { ready: rss(row) };
  await runMicro(microApp);

  if (params.rss) {
    const { first, total, connections } = params.rss;
    for (const row of live().filter((r) => r.entry.byok)) {
      try {
        log(`${row.entry.label}: ${first} requests, then ${total - first} more, for RSS`);
        await load(row.target, { amount: first, connections });
        row.result.rss.after10k = await settledRss(row);
        await load(row.target, { amount: total - first, connections });
        row.result.rss.after100k = await settledRss(row);
      } catch (e) {
        fail(row, new Error(`RSS phase: ${e.message}`));
      }
    }
  }

  const L = params.latency;
  log(`sequential latency: ${L.rounds} rounds of ${L.requests} requests per target`);
  await inRounds('latency', L.rounds, async (row, round) => {
    const warmup = round === 0 ? L.warmup : Math.ceil(L.requests / 10);
    row.latency.push(...(await latency(row.target, { warmup, requests: L.requests })));
  });

  const T = params.throughput;
  log(
    `throughput: c=${params.concurrency.join(', ')}, ${T.rounds} × ${T.duration} s each per target`,
  );
  await inRounds('throughput warm-up', 1, (row) =>
    throughput(row.target, {
      connections: Math.max(...params.concurrency),
      duration: T.warmupSeconds,
    }),
  );
  for (const c of params.concurrency)
    await inRounds(`throughput c=${c}`, T.rounds, async (row) => {
      row.rounds[c].push(await throughput(row.target, { connections: c, duration: T.duration }));
    });

  const S = params.streaming;
  log(`streaming: ${S.rounds} rounds of ${S.streams} streams per target`);
  await inRounds('streaming', S.rounds, async (row, round) => {
    const r = await streaming(row.target, {
      warmup: round === 0 ? S.warmup : 2,
      streams: S.streams,
    });
    row.ttfb.push(...r.ttfb);
    row.ttlb.push(...r.ttlb);
    row.lag.push(...r.lag);
  });

  await runRealtime();

  for (const row of live()) row.result.rss.end = rss(row);
  // What the tracing rows' sinks received: tracing that exported nothing measured nothing.
  for (const row of live().filter((r) => r.target.exportedSpans))
    row.result.exportedSpans = await row.target.exportedSpans();
  // Start-up on an existing DATA_DIR (or database): each byok-proxy stopped and started again.
  for (const row of live().filter((r) => r.target.restart)) {
    try {
      row.result.restartSeconds = await row.target.restart();
      log(`${row.entry.label}: ready again in ${row.result.restartSeconds.toFixed(1)} s`);
    } catch (e) {
      // Its other numbers stand; the run still fails.
      row.result.restartError = e.message;
      log(`${row.entry.label}: restart FAILED: ${e.message}`);
    }
  }

  for (const row of live()) {
    const r = row.result;
    r.latency = summarise(row.latency);
    r.streaming = {
      ttfb: summarise(row.ttfb),
      ttlb: summarise(row.ttlb),
      lag: row.lag.length ? summarise(row.lag) : undefined,
    };
    r.throughput = {};
    for (const c of params.concurrency) {
      const runs = row.rounds[c];
      const mean = (f) => runs.reduce((a, x) => a + f(x), 0) / runs.length;
      r.throughput[c] = {
        rps: runs.reduce((a, x) => a + x.total, 0) / runs.reduce((a, x) => a + x.seconds, 0),
        total: runs.reduce((a, x) => a + x.total, 0),
        latencyMs: { p50: mean((x) => x.latencyMs.p50), p99: mean((x) => x.latencyMs.p99) },
      };
    }
  }
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  log(`FAILED: ${e.stack ?? e.message}`);
} finally {
  await stopAll();
}

const results = rows.map((r) => r.result);
failed ||= results.some((r) => r.error || r.restartError) || !!micro?.error || !!realtime?.error;
if (results.some((r) => r.latency) || micro?.modes) {
  const run = {
    meta: meta(),
    params,
    results,
    ...(micro ? { micro } : {}),
    ...(realtime ? { realtime } : {}),
  };
  const md = render(run);
  process.stdout.write(`\n${md}\n`);
  const out = resolve(args.out);
  mkdirSync(dirname(out), { recursive: true });
  writeReport(out, md);
  writeFileSync(`${out.replace(/\.md$/, '')}.json`, `${JSON.stringify(run, null, 2)}\n`);
  log(`wrote ${out}`);
}
keepLogs ||= failed;
log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failed ? 1 : 0;
