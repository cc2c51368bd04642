#!/usr/bin/env node
// Profiles byok-proxy under load: starts the double and byok-proxy (embedded defaults) with
// `node --cpu-prof`, warms it up, drives it with autocannon, stops it (SIGTERM: the profile is
// written on exit) and prints where the CPU time went. Writes bench/results/profile-c<N>.md and keeps
// the raw profile as bench/results/byok-proxy-c<N>.cpuprofile (open it in Chrome DevTools).
//
//   node bench/profile.mjs [--duration 10] [--connections 64|1] [--log-level warn] [--interval-us 200]
//                          [--servers]   (byok-proxy on PostgreSQL + OpenBao instead of PGlite)
//                          [--tracing]   (exporting traces to a local OTLP sink)
//
// Only the samples taken while the load ran are counted (not the boot). --connections 1 uses
// the sequential latency client instead of autocannon: per-request overhead without queueing.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarise, toMarkdown } from './cpuprofile-summary.mjs';
import { latency, throughput } from './lib/measure.mjs';
import { onExit, stop, stopAll } from './lib/processes.mjs';
import { ROOT, byokTarget, startDouble } from './lib/targets.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    'log-level': { type: 'string', default: 'warn' },
    'interval-us': { type: 'string', default: '200' },
    servers: { type: 'boolean', default: false },
    tracing: { type: 'boolean', default: false },
  },
});

/** c=1: the sequential latency client for `seconds`, as the latency phase of run.mjs. */
async function sequential(target, seconds) {
  const end = performance.now() + seconds * 1000;
  let total = 0;
  while (performance.now() < end)
    total += (await latency(target, { warmup: 0, requests: 200 })).length;
  return { rps: total / seconds };
}

const work = mkdtempSync(join(tmpdir(), 'byok-profile-'));
const profDir = join(work, 'prof');
onExit(() => rmSync(work, { recursive: true, force: true }));
const ctx = {
  work,
  logDir: work,
  dataDir: join(work, 'data'),
  stream: { chunks: 10, chunkDelayMs: 5 },
  nodeArgs: [
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
    `--cpu-prof-interval=${args['interval-us']}`,
  ],
  byokEnv: {},
};
const log = (m) => process.stderr.write(`[profile] ${m}\n`);
let failed = false;
try {
  ctx.double = await startDouble(ctx);
  const entry = byokTarget(args['log-level'], { servers: args.servers, tracing: args.tracing });
  if (entry.skip) throw new Error(`--servers: ${entry.skip}`);
  log(`starting ${entry.label} with --cpu-prof`);
  const target = await entry.start(ctx);
  log('warm-up: 2000 sequential requests');
  await latency(target, { warmup: 0, requests: 2000 });
  const connections = Number(args.connections);
  const duration = Number(args.duration);
  log(`autocannon c=${connections} for ${duration} s`);
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const fromUs = nowUs();
  const r =
    connections === 1
      ? await sequential(target, duration)
      : await throughput(target, { connections, duration });
  const toUs = nowUs();
  log(`${Math.round(r.rps)} req/s; stopping the proxy so it writes its profile`);
  await stop(target.proc, 30_000);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${profDir} (did the proxy exit cleanly?)`);
  const out = join(ROOT, 'bench/results');
  mkdirSync(out, { recursive: true });
  copyFileSync(join(profDir, file), join(out, `byok-proxy-c${connections}.cpuprofile`));
  const summary = toMarkdown(
    summarise(JSON.parse(readFileSync(join(profDir, file), 'utf8')), { fromUs, toUs }),
  );
  const how = connections === 1 ? 'sequential client (c=1)' : `autocannon c=${connections}`;
  const md = `# byok-proxy CPU profile\n\n${how} for ${duration} s after 2000 warm-up requests, ${entry.label}, ${Math.round(r.rps)} req/s while profiled (the profiler itself slows it down).\n\n${summary}\n`;
  writeFileSync(join(out, `profile-c${connections}.md`), md);
  process.stdout.write(md);
  log(`wrote bench/results/profile-c${connections}.md and byok-proxy-c${connections}.cpuprofile`);
} catch (e) {
  failed = true;
  log(`FAILED: ${e.stack ?? e.message}`);
} finally {
  await stopAll();
}
process.exitCode = failed ? 1 : 0;
