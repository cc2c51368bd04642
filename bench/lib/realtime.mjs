// Realtime (WebSocket) through byok-proxy against a direct connection to the double's echo
// session: session set-up (handshake to open, sequential) and message round trip on one open
// session (a 1 KiB text event and its echo, sequential), plus the proxy's RSS holding many
// sessions at once. Only ratios and differences of one run mean anything.
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { summarise } from './measure.mjs';

const EVENT = JSON.stringify({ type: 'input_audio_buffer.append', audio: 'A'.repeat(1024) });

/** `endpoint`: { url (ws://…), headers }. Resolves with the open socket. */
function open(endpoint) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(endpoint.url, { headers: endpoint.headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`${endpoint.url} refused the handshake with ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
}

async function closed(ws) {
  const done = once(ws, 'close');
  ws.close();
  await done;
}

/** Set-up and round-trip samples in µs (raw: the runner merges rounds, then summarises). */
export async function measureRealtime(endpoint, { sessions, messages, warmup }) {
  const setup = [];
  for (let i = 0; i < warmup + sessions; i++) {
    const t0 = performance.now();
    const ws = await open(endpoint);
    if (i >= warmup) setup.push((performance.now() - t0) * 1000);
    await closed(ws);
  }
  const ws = await open(endpoint);
  const rtt = [];
  for (let i = 0; i < warmup + messages; i++) {
    const t0 = performance.now();
    const echo = once(ws, 'message');
    ws.send(EVENT);
    const [data] = await echo;
    if (data.length !== EVENT.length) throw new Error('the echo differs from the event sent');
    if (i >= warmup) rtt.push((performance.now() - t0) * 1000);
  }
  await closed(ws);
  return { setup, rtt };
}

export const summariseRealtime = (r) => ({ setup: summarise(r.setup), rtt: summarise(r.rtt) });

/** Opens `count` sessions at once (in batches) and returns a function that closes them. */
export async function holdSessions(endpoint, count) {
  const sockets = [];
  for (let i = 0; i < count; i += 25)
    sockets.push(
      ...(await Promise.all(Array.from({ length: Math.min(25, count - i) }, () => open(endpoint)))),
    );
  // Each one still answers: a message and its echo.
  await Promise.all(
    sockets.map(async (ws) => {
      const echo = once(ws, 'message');
      ws.send(EVENT);
      await echo;
    }),
  );
  return () => Promise.all(sockets.map(closed));
}

const us = (v) =>
  Number.isFinite(v) ? (v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${Math.round(v)} µs`) : '—';
const plus = (v) => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${us(Math.abs(v))}` : '—');
const ratio = (a, b) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

/** The report's realtime section (nothing when the phase did not run). */
export function realtimeSection(run) {
  const rt = run.realtime;
  if (!rt) return [];
  const out = ['## Realtime (WebSocket)', ''];
  if (rt.error) return [...out, `**failed**: ${rt.error}`, ''];
  const row = (label, r, base) => [
    label,
    us(r.setup.p50),
    us(r.setup.p99),
    base ? `${plus(r.setup.p50 - base.setup.p50)} (${ratio(r.setup.p50, base.setup.p50)})` : '—',
    us(r.rtt.p50),
    us(r.rtt.p99),
    base ? `${plus(r.rtt.p50 - base.rtt.p50)} (${ratio(r.rtt.p50, base.rtt.p50)})` : '—',
  ];
  const head = [
    'target',
    'set-up p50',
    'set-up p99',
    'vs direct',
    'round trip p50',
    'round trip p99',
    'vs direct',
  ];
  const lines = [
    head,
    head.map(() => '---'),
    row('direct to the double', rt.direct),
    row(rt.label, rt.byok, rt.direct),
  ];
  out.push(...lines.map((cells) => `| ${cells.join(' | ')} |`), '');
  const { count, rssBefore, rssHeld } = rt.held;
  const perSession = ((rssHeld - rssBefore) * 1024) / count;
  out.push(
    `${rt.params.sessions} sessions set up one after another and ${rt.params.messages} round trips of a 1 KiB text event on one session per round (${rt.params.rounds} rounds, direct and byok-proxy alternating), after ${rt.params.warmup} warm-up each. ` +
      `${rt.label} holding ${count} sessions at once, each having relayed a message: RSS ${Math.round(rssBefore)} → ${Math.round(rssHeld)} MiB after a full GC (${Math.round(perSession)} KiB per session).`,
    '',
  );
  return out;
}
