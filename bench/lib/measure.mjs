// The three load generators. Each takes a started target ({origin, path, headers, body,
// streamBody}) and returns plain numbers; times are microseconds unless named otherwise.
import autocannon from 'autocannon';
import { Client } from 'undici';

const NS_PER_US = 1000n;

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarise(samples) {
  const sorted = Float64Array.from(samples).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    n: sorted.length,
    mean,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

class BadAnswer extends Error {}

function check(target, status, text, stream) {
  if (status !== 200)
    throw new BadAnswer(`${target.origin}${target.path} answered ${status}: ${text.slice(0, 300)}`);
  if (
    stream
      ? !text.endsWith('data: [DONE]\n\n') || text.includes('event: error')
      : !text.includes('"chat.completion"')
  )
    throw new BadAnswer(
      `${target.origin}${target.path} answered an unexpected body: ${text.slice(0, 300)}`,
    );
}

/**
 * Latency: one keep-alive connection, one request at a time, each timed from before the
 * request is written to the last byte of the body read, with process.hrtime.bigint().
 */
export async function latency(target, { warmup, requests }) {
  // Raw samples (µs); the caller pools several rounds and summarises.
  const client = new Client(target.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
  const opts = { path: target.path, method: 'POST', headers: target.headers, body: target.body };
  const samples = new Float64Array(requests);
  try {
    for (let i = 0; i < warmup + requests; i++) {
      const t0 = process.hrtime.bigint();
      const res = await client.request(opts);
      const text = await res.body.text();
      const t1 = process.hrtime.bigint();
      if (i === 0 || res.statusCode !== 200) check(target, res.statusCode, text, false);
      if (i >= warmup) samples[i - warmup] = Number((t1 - t0) / NS_PER_US);
    }
  } finally {
    await client.close();
  }
  return samples;
}

const STAMPED = /chatcmpl-bench-t(\d+)/g;
const wallUs = () => (performance.timeOrigin + performance.now()) * 1000;

/**
 * Streaming: sequential SSE requests through one keep-alive connection; time to the first
 * body byte (TTFB) and to the last (TTLB), from before the request is written; and for every
 * chunk, how long after the double wrote it (the wall-clock stamp in its id) it reached the
 * client (`lag`: through a proxy, minus direct's, is what the proxy held it).
 */
export async function streaming(target, { warmup, streams }) {
  const client = new Client(target.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
  const opts = {
    path: target.path,
    method: 'POST',
    headers: target.headers,
    body: target.streamBody,
  };
  const ttfb = [];
  const ttlb = [];
  const lag = [];
  try {
    for (let i = 0; i < warmup + streams; i++) {
      const t0 = process.hrtime.bigint();
      const res = await client.request(opts);
      let first;
      let text = '';
      const lags = [];
      for await (const chunk of res.body) {
        const at = wallUs();
        first ??= process.hrtime.bigint();
        const part = chunk.toString('utf8');
        text += part;
        // A chunk that splits a stamp is rare (10 short events); such a chunk is not counted.
        for (const m of part.matchAll(STAMPED)) lags.push(at - Number(m[1]));
      }
      const last = process.hrtime.bigint();
      check(target, res.statusCode, text, true);
      if (i < warmup) continue;
      ttfb.push(Number((first - t0) / NS_PER_US));
      ttlb.push(Number((last - t0) / NS_PER_US));
      lag.push(...lags);
    }
  } finally {
    await client.close();
  }
  return { ttfb, ttlb, lag };
}

function cannon(target, opts) {
  return autocannon({
    url: `${target.origin}${target.path}`,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    pipelining: 1,
    timeout: 30,
    ...opts,
  });
}

function rateOf(r, what) {
  const failed = r.non2xx + r.errors + r.timeouts;
  if (failed > r.requests.total * 0.001 || r.requests.total === 0)
    throw new BadAnswer(
      `${what}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts out of ${r.requests.total}` +
        (r.statusCodeStats ? ` (status codes: ${JSON.stringify(r.statusCodeStats)})` : ''),
    );
  return {
    rps: r.requests.total / r.duration,
    total: r.requests.total,
    seconds: r.duration,
    failed,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99 },
  };
}

/** Throughput: autocannon at `connections` for `duration` seconds. */
export async function throughput(target, { connections, duration }) {
  return rateOf(await cannon(target, { connections, duration }), `c=${connections}`);
}

/** Sends exactly `amount` requests at concurrency `connections` (the RSS phases). */
export async function load(target, { amount, connections }) {
  return rateOf(await cannon(target, { connections, amount }), `${amount} requests`);
}
