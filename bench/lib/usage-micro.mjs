// Micro-benchmark of what usage recording and limits add to one proxied request, in process:
// the running service cannot switch recording off, so the HTTP rows cannot isolate it.
//
// Run as a script, this file is the child: it builds byok-proxy from dist/ (createApp, PGlite in
// a temp DATA_DIR, LOG_LEVEL=silent, the LIMIT_USER_* defaults of the `byok-limits` row), stores
// one key for each of two users, tells the runner it is ready (IPC), waits for "go", then runs
// the hot-path tail of a request `iterations` times per user and sends back the timings.
// - `bench-limited` has the env default limits: admission counts rpm and reads tpm/tpd/budget,
//   and the response's tokens and cost are added to three counters.
// - `bench-unlimited` has a per-user limits row of all nulls (what a deployment without
//   LIMIT_USER_* gives everyone): admission and counting return at once.
// Each request, timed with process.hrtime.bigint():
//   admission  Admission.admitCaller + admitKey: limits, and token/budget reservations when set
//   usage      UsageSniffer: tokens and model read from the double's JSON body
//   record     UsageRecorder.record(usage event): metrics, the queued usage row, the log call,
//              lastUsedAt, cost, and the token/budget counting it starts (settled before the
//              next request, since the runner yields)
// exactly as ProxyService.handle calls them. The two users alternate, and
// each request yields to the event loop before the next, so the batched usage writes (every
// second or 500 rows) run between requests as they do in the service, not inside a timed call.
//
// The runner side is startUsageMicro(): spawn, await ready, measure(), done.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { summarise } from './measure.mjs';
import { ProcessError, assertAlive, start, stop, tail } from './processes.mjs';
import { BENCH_LIMITS_ENV, PROVIDER_KEY, ROOT, chatBody } from './targets.mjs';

const SELF = fileURLToPath(import.meta.url);
export const MICRO_PIECES = ['admission', 'usage', 'record', 'total'];
export const MICRO_MODES = ['unlimited', 'limited'];

/** Runner side: starts the child; resolves once its app is built and its keys are stored. */
export async function startUsageMicro(ctx, { iterations, warmup }) {
  const proc = start('usage-micro', process.execPath, [SELF], {
    env: {
      ...process.env,
      BENCH_MICRO_ITERATIONS: String(iterations),
      BENCH_MICRO_WARMUP: String(warmup),
    },
    cwd: ROOT,
    logFile: join(ctx.logDir, 'usage-micro.log'),
    ipc: true,
  });
  const messages = [];
  let wake;
  proc.child.on('message', (m) => {
    messages.push(m);
    wake?.();
  });
  proc.exited.then(() => wake?.());
  const next = async (type, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = messages.findIndex((m) => m.type === type || m.type === 'error');
      if (i >= 0) {
        const [m] = messages.splice(i, 1);
        if (m.type === 'error')
          throw new ProcessError(
            `usage micro-benchmark failed: ${m.message}\n${tail(proc.logFile)}`,
          );
        return m;
      }
      assertAlive(proc);
      if (Date.now() > deadline)
        throw new ProcessError(
          `usage micro-benchmark sent no "${type}" within ${timeoutMs} ms:\n${tail(proc.logFile)}`,
        );
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, 500);
      });
    }
  };
  const t0 = performance.now();
  const ready = await next('ready', 180_000);
  return {
    proc,
    startSeconds: (performance.now() - t0) / 1000,
    ready,
    /** Runs the timed loop (the caller keeps the machine otherwise idle meanwhile). */
    async measure() {
      const t1 = performance.now();
      proc.child.send({ type: 'go' });
      const { result } = await next('result', 300_000);
      // It closes its app and exits by itself; a hang there is not worth waiting for.
      await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      await stop(proc);
      return { ...result, seconds: (performance.now() - t1) / 1000 };
    },
  };
}

// ---------------------------------------------------------------------------- child side

async function child() {
  const iterations = Number(process.env.BENCH_MICRO_ITERATIONS ?? 20_000);
  const warmup = Number(process.env.BENCH_MICRO_WARMUP ?? 2_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'byok-micro-'));
  const require = createRequire(join(ROOT, 'dist', 'main.js'));
  const dist = (p) => require(join(ROOT, 'dist', p));
  require('reflect-metadata');
  const { createApp } = dist('app.factory.js');
  const { loadConfig } = dist('config/app-config.js');
  const { UsageRecorder } = dist('usage/usage.recorder.js');
  const { usageEventOf } = dist('proxy/exchange.js');
  const { Admission } = dist('proxy/admission.js');
  const { PriceTable } = dist('usage/prices.js');
  const { LimitsService } = dist('limits/limits.service.js');
  const { NO_LIMITS, isUnlimited } = dist('limits/limits.js');
  const { KeysService } = dist('keys/keys.service.js');
  const { KeyResolver } = dist('keys/key-resolver.js');
  const { TargetFinder } = dist('proxy/target-finder.js');
  const { ProviderRegistryService } = dist('providers/provider-registry.service.js');
  const { UsageSniffer } = dist('proxy/usage-sniffer.js');
  const { DataSource } = require('typeorm');

  let app;
  try {
    app = await createApp(
      loadConfig({
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        NODE_ENV: 'development',
        AUTH_JWT_SECRET: 'byok-bench-jwt-secret-0123456789abcdef',
        // Never contacted: nothing here goes upstream.
        OPENAI_BASE_URL: 'http://127.0.0.1:9',
        ...BENCH_LIMITS_ENV,
      }),
    );
    const recorder = app.get(UsageRecorder);
    const limits = app.get(LimitsService);
    const admission = app.get(Admission);
    const prices = app.get(PriceTable);
    const keys = app.get(KeysService);
    const resolver = app.get(KeyResolver);
    const targets = app.get(TargetFinder);
    const registry = app.get(ProviderRegistryService);

    // The same request the HTTP rows send, routed as the proxy routes it.
    const target = targets.find({
      url: '/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(chatBody('openai/gpt-4o-mini', false)),
    });
    if (target.provider !== registry.get('openai'))
      throw new Error(`routed to ${target.provider.id}, not openai`);
    // What the double answers (bench/servers/double.mjs), for the usage sniffer.
    const answer = Buffer.from(
      JSON.stringify({
        id: 'chatcmpl-bench',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hello from the benchmark double.' },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
      }),
    );

    await limits.setUserLimits('bench-unlimited', { ...NO_LIMITS });
    const users = {};
    for (const mode of MICRO_MODES) {
      const caller = { kind: 'jwt', sub: `bench-${mode}`, orgAdmin: false, admin: false };
      await keys.saveApiKey(caller, 'user', {
        provider: 'openai',
        keyName: 'bench',
        apiKey: PROVIDER_KEY,
      });
      const [candidate] = await resolver.resolve(caller, 'openai');
      if (candidate?.source !== 'user') throw new Error(`no stored key resolved for ${caller.sub}`);
      const unlimited = isUnlimited(await limits.userLimits(caller.sub));
      if (unlimited !== (mode === 'unlimited'))
        throw new Error(`${caller.sub}: limits are ${unlimited ? 'unset' : 'set'}`);
      users[mode] = { caller, candidate };
    }

    process.send({ type: 'ready' });
    await new Promise((resolve) => process.once('message', resolve));

    const samples = Object.fromEntries(
      MICRO_MODES.map((m) => [
        m,
        Object.fromEntries(MICRO_PIECES.map((p) => [p, new Float64Array(iterations)])),
      ]),
    );
    const us = (a, b) => Number(b - a) / 1000;

    /** One request's admission and usage tail, timed piece by piece. */
    async function once_(mode, i) {
      const { caller, candidate } = users[mode];
      const ex = {
        requestId: `bench-${mode}-${i}`,
        started: performance.now() - 500,
        caller,
        target,
        candidate,
        reservations: [],
      };
      const t0 = process.hrtime.bigint();
      await admission.admitCaller(ex, caller, target);
      const over = await admission.admitKey(ex, candidate, target);
      const t1 = process.hrtime.bigint();
      const sniffer = new UsageSniffer();
      sniffer.push(answer);
      const usage = sniffer.usage();
      const model = sniffer.model();
      const t2 = process.hrtime.bigint();
      const outcome = { status: 200, usage, firstChunkAt: performance.now(), model };
      recorder.record(usageEventOf(ex, outcome));
      const t3 = process.hrtime.bigint();
      const prompt = usage.promptTokens ?? 0;
      const completion = usage.completionTokens ?? 0;
      const cost = prices.cost(
        target.provider.id,
        target.model ?? model ?? null,
        prompt,
        completion,
      );
      if (over) throw new Error(`${mode}: the key's limits refused a request`);
      if (prompt !== 9 || completion !== 6 || cost === null)
        throw new Error(`${mode}: usage read as ${JSON.stringify(usage)}, cost ${cost}`);
      if (i < 0) return;
      const s = samples[mode];
      s.admission[i] = us(t0, t1);
      s.usage[i] = us(t1, t2);
      s.record[i] = us(t2, t3);
      s.total[i] = us(t0, t3);
    }

    const t0 = performance.now();
    for (let i = -warmup; i < iterations; i++) {
      // Alternate which user goes first, so neither always runs right after a yield.
      const order = i & 1 ? [...MICRO_MODES].reverse() : MICRO_MODES;
      for (const mode of order) {
        await once_(mode, i);
        await yieldToLoop();
      }
    }
    const loopSeconds = (performance.now() - t0) / 1000;

    // Proof that the rows were really written: every recorded request is a usage row.
    await recorder.flush();
    const [{ count }] = await app
      .get(DataSource)
      .query('SELECT count(*)::int AS count FROM usage_events');
    const expected = MICRO_MODES.length * (warmup + iterations);
    if (count !== expected) throw new Error(`${count} usage rows written, expected ${expected}`);

    const result = {
      iterations,
      warmup,
      loopSeconds,
      usageRows: count,
      modes: Object.fromEntries(
        MICRO_MODES.map((m) => [
          m,
          Object.fromEntries(MICRO_PIECES.map((p) => [p, summarise(samples[m][p])])),
        ]),
      ),
    };
    await send({ type: 'result', result });
  } finally {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** process.send, resolved once the message is handed to the channel. */
const send = (m) => new Promise((resolve) => process.send(m, () => resolve()));

if (process.argv[1] === SELF) {
  try {
    await child();
  } catch (e) {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exitCode = 1;
    if (process.connected) await send({ type: 'error', message: e.message });
  }
  if (process.connected) process.disconnect();
}
