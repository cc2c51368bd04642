// Turns one run's numbers into the Markdown report: the summary table issue 5 asks for, the
// targets checked against the byok-proxy rows, and the details behind each column.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { realtimeSection } from './realtime.mjs';
import { tracingCostSection } from './tracing-cost.mjs';

const us = (v) =>
  Number.isFinite(v) ? (v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${Math.round(v)} µs`) : '—';
const plusUs = (v) => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${us(Math.abs(v))}` : '—');
const rps = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const ratio = (a, b) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—';
const mib = (v) => (Number.isFinite(v) ? `${Math.round(v)} MiB` : '—');
const pct = (v) => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)} %` : '—');

const table = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** Issue 16's targets (round 2; issue 5's were the first round). */
export const TARGET_LIMITS = {
  addedP50OverBareUs: 100,
  addedP99OverBareUs: 500,
  c64VsBare: 0.7,
  /** Throughput at LOG_LEVEL=info may cost this much against warn. */
  infoCostPct: 5,
  /** Stream TTFB overhead over direct: at most bare's plus this. */
  ttfbOverBareUs: 200,
  /** A chunk's added delay (p99 of its lag, minus direct's). */
  chunkLagUs: 500,
  rssEmbeddedMiB: 200,
  rssServersMiB: 120,
  firstStartSeconds: 8,
  restartSeconds: 3,
  rssGrowthPct: 10,
  /** Issue 8: what limits and usage recording add to a request, p50. */
  limitsAndUsageP50Us: 100,
};

/** Sub-microsecond resolution for the in-process figures. */
const fineUs = (v) =>
  !Number.isFinite(v) ? '—' : v < 1 ? `${v.toFixed(2)} µs` : v < 100 ? `${v.toFixed(1)} µs` : us(v);

const MICRO_PIECES = {
  admission:
    '`Admission.admitCaller` + `admitKey`: limits and reservations (before the upstream call)',
  usage: 'tokens and model read from the answer (`UsageSniffer`)',
  record:
    '`UsageRecorder.record()` of the usage event: metrics, queued usage row, log call, cost, token counting',
  total: 'all of it, per request',
};

/**
 * Issue 8: the cost of limits and usage recording. [what, p50, p99, target, verdict] rows: the
 * HTTP difference `byok-limits` − `byok` (limits only: recording is always on) and the
 * in-process totals per request (recording, and recording plus limits).
 */
export function limitsCostRows(run) {
  const limit = TARGET_LIMITS.limitsAndUsageP50Us;
  const by = Object.fromEntries(run.results.map((r) => [r.key, r]));
  const on = by['byok-limits'];
  const off = by['byok-warn'];
  const verdict = (v) =>
    !Number.isFinite(v) ? 'not measured' : v <= limit ? 'met' : `missed by ${fineUs(v - limit)}`;
  const rows = [];
  if (on || off) {
    const p50 = on?.latency?.p50 - off?.latency?.p50;
    const p99 = on?.latency?.p99 - off?.latency?.p99;
    rows.push([
      'limits over HTTP: `byok-limits` − `byok` (LOG_LEVEL=warn), sequential client',
      plusUs(p50),
      plusUs(p99),
      `p50 ≤ ${limit} µs`,
      verdict(p50),
    ]);
  }
  const m = run.micro;
  if (m?.modes) {
    const { unlimited, limited } = m.modes;
    rows.push(
      [
        'usage recording per request, in process, limits unset',
        fineUs(unlimited.total.p50),
        fineUs(unlimited.total.p99),
        `p50 ≤ ${limit} µs`,
        verdict(unlimited.total.p50),
      ],
      [
        'limits and usage recording per request, in process, limits set',
        fineUs(limited.total.p50),
        fineUs(limited.total.p99),
        `p50 ≤ ${limit} µs`,
        verdict(limited.total.p50),
      ],
      [
        '… of which one `UsageRecorder.record()` call (limits set)',
        fineUs(limited.record.p50),
        fineUs(limited.record.p99),
        '—',
        '—',
      ],
    );
  } else if (m?.error) {
    rows.push(['in-process micro-benchmark', `**failed**: ${m.error.split('\n')[0]}`, '', '', '']);
  }
  return rows;
}

function limitsCostSection(run) {
  const rows = limitsCostRows(run);
  if (!rows.length) return [];
  const m = run.micro;
  const out = [
    '**Cost of limits and usage recording (issue 8)**',
    '',
    table(['measured', 'p50', 'p99', 'target', 'verdict'], rows),
    '',
  ];
  const verdicts = rows.filter((r) => r[3] !== '—').map((r) => r[4]);
  const overall = verdicts.some((v) => v.startsWith('missed'))
    ? 'missed'
    : verdicts.length && verdicts.every((v) => v === 'met')
      ? 'met'
      : 'not fully measured';
  out.push(
    `Verdict: ${overall} (every p50 above ≤ ${TARGET_LIMITS.limitsAndUsageP50Us} µs). ` +
      'Recording cannot be switched off in the service, so the HTTP row shows what limits add ' +
      '(admission and token/budget counting with LIMIT_USER_* set so high nothing is refused), ' +
      'and the in-process rows show recording itself, each on its own and with limits' +
      (m?.modes
        ? ` (${m.iterations.toLocaleString('en-US')} requests per case after ${m.warmup.toLocaleString('en-US')} warm-up; breakdown in the details).`
        : '.') +
      ' The HTTP difference is between two processes and moves by tens of µs from run to run; the in-process figures do not.',
    '',
  );
  return out;
}

function microDetails(run) {
  const m = run.micro;
  if (!m?.modes) return [];
  const { unlimited, limited } = m.modes;
  return [
    `Usage and limits, in process (bench/lib/usage-micro.mjs: byok-proxy's own services from \`dist/\`, PGlite, LOG_LEVEL=silent; ${m.iterations.toLocaleString('en-US')} requests per case after ${m.warmup.toLocaleString('en-US')} warm-up, the two cases alternating, yielding to the event loop between requests; ${m.usageRows.toLocaleString('en-US')} usage rows written; ${m.loopSeconds.toFixed(1)} s):`,
    '',
    table(
      ['step', 'limits unset p50', 'p90', 'p99', 'limits set p50', 'p90', 'p99'],
      Object.entries(MICRO_PIECES).map(([k, label]) => [
        label,
        fineUs(unlimited[k].p50),
        fineUs(unlimited[k].p90),
        fineUs(unlimited[k].p99),
        fineUs(limited[k].p50),
        fineUs(limited[k].p90),
        fineUs(limited[k].p99),
      ]),
    ),
    '',
  ];
}

function rssGrowth(r) {
  const { after10k, after100k } = r.rss ?? {};
  return Number.isFinite(after10k) && Number.isFinite(after100k)
    ? ((after100k - after10k) / after10k) * 100
    : NaN;
}

function rssCell(r) {
  if (!r.proc) return '—';
  const g = rssGrowth(r);
  if (Number.isFinite(g)) return `${mib(r.rss.after10k)} → ${mib(r.rss.after100k)} (${pct(g)})`;
  return `${mib(r.rss?.end)} at end`;
}

/** byok-proxy against the targets of issue 16; each row: [what, measured, limit, verdict]. */
export function checkTargets(r, by) {
  const { bare, direct } = by;
  const L = TARGET_LIMITS;
  const servers = r.key.startsWith('byok-pg');
  const rows = [];
  const verdict = (ok, miss) =>
    ok === undefined ? 'not measured' : ok ? 'met' : `missed by ${miss}`;
  const add = (what, value, limit, ok, miss, fmt) =>
    rows.push([
      what,
      Number.isFinite(value) ? fmt(value) : '—',
      limit,
      verdict(Number.isFinite(value) ? ok : undefined, miss),
    ]);
  const times = (v) => `${v.toFixed(2)}×`;
  const secs = (v) => `${v.toFixed(1)} s`;

  const c64 = r.throughput?.[64]?.rps / bare?.throughput?.[64]?.rps;
  add(
    'throughput at c=64 vs `bare`',
    c64,
    `≥ ${L.c64VsBare}×`,
    c64 >= L.c64VsBare,
    times(L.c64VsBare - c64),
    times,
  );
  const warn = by[r.key.replace(/-info$/, '-warn')];
  if (r.key.endsWith('-info') && warn) {
    const cost = (1 - r.throughput?.[64]?.rps / warn.throughput?.[64]?.rps) * 100;
    add(
      'throughput cost of LOG_LEVEL=info against warn (c=64)',
      cost,
      `≤ ${L.infoCostPct} %`,
      cost <= L.infoCostPct,
      `${(cost - L.infoCostPct).toFixed(1)} points`,
      pct,
    );
  }
  const p50 = r.latency?.p50 - bare?.latency?.p50;
  add(
    'added p50 over `bare` (sequential)',
    p50,
    `≤ ${us(L.addedP50OverBareUs)}`,
    p50 <= L.addedP50OverBareUs,
    us(p50 - L.addedP50OverBareUs),
    plusUs,
  );
  const p99 = r.latency?.p99 - bare?.latency?.p99;
  add(
    'added p99 over `bare` (sequential)',
    p99,
    `≤ ${us(L.addedP99OverBareUs)}`,
    p99 <= L.addedP99OverBareUs,
    us(p99 - L.addedP99OverBareUs),
    plusUs,
  );
  const ttfb = r.streaming?.ttfb.p50 - direct?.streaming?.ttfb.p50;
  const ttfbLimit = bare?.streaming?.ttfb.p50 - direct?.streaming?.ttfb.p50 + L.ttfbOverBareUs;
  add(
    'stream TTFB overhead over `direct` (p50)',
    ttfb,
    `≤ bare's + ${us(L.ttfbOverBareUs)} (${plusUs(ttfbLimit)})`,
    ttfb <= ttfbLimit,
    us(ttfb - ttfbLimit),
    plusUs,
  );
  const lag = r.streaming?.lag?.p99 - direct?.streaming?.lag?.p99;
  add(
    'added delay of each stream chunk over `direct` (p99)',
    lag,
    `≤ ${us(L.chunkLagUs)}`,
    lag <= L.chunkLagUs,
    us(lag - L.chunkLagUs),
    plusUs,
  );
  const rssLimit = servers ? L.rssServersMiB : L.rssEmbeddedMiB;
  add(
    'RSS after 100k requests (after a full GC)',
    r.rss?.after100k,
    `≤ ${rssLimit} MiB`,
    r.rss?.after100k <= rssLimit,
    mib(r.rss?.after100k - rssLimit),
    mib,
  );
  const g = rssGrowth(r);
  add(
    'RSS after 100k vs after 10k requests',
    g,
    `≤ +${L.rssGrowthPct} %`,
    g <= L.rssGrowthPct,
    `${(g - L.rssGrowthPct).toFixed(1)} points`,
    pct,
  );
  if (!servers) {
    add(
      'ready (`/readyz` 200) on a first start',
      r.readySeconds,
      `≤ ${L.firstStartSeconds} s`,
      r.readySeconds <= L.firstStartSeconds,
      secs(r.readySeconds - L.firstStartSeconds),
      secs,
    );
    add(
      'ready again on the existing `DATA_DIR`',
      r.restartSeconds,
      `≤ ${L.restartSeconds} s`,
      r.restartSeconds <= L.restartSeconds,
      secs(r.restartSeconds - L.restartSeconds),
      secs,
    );
  }
  return rows;
}

function notesOf(run) {
  const notes = [];
  const boots = run.results.filter((r) => r.byok && r.readySeconds);
  if (boots.length)
    notes.push(
      `byok-proxy start-up until \`/readyz\` answers 200 (polled every 100 ms; the targets boot one at a time), on a fresh database (create it, migrate) → on the existing one (stopped and started again at the end of the run, alone): ${boots.map((r) => `${r.label} ${r.readySeconds.toFixed(1)} s → ${Number.isFinite(r.restartSeconds) ? `${r.restartSeconds.toFixed(1)} s` : `failed (${r.restartError ?? 'not run'})`}`).join(', ')}.`,
    );
  if (run.results.some((r) => r.byok))
    notes.push(
      'Server logs go to a file (never a pipe the runner must drain), as a container runtime collects stdout.',
    );
  const { start, end } = run.meta.loadAverage;
  if (start > 0.5 || end > 0.5)
    notes.push(
      `Other work was running: 1-min load average ${start.toFixed(2)} at start, ${end.toFixed(2)} at end on ${run.meta.cpus} CPUs. ` +
        'Rounds spread it over all targets, so the ratios hold better than the absolute numbers.',
    );
  return notes;
}

export function render(run) {
  const by = Object.fromEntries(run.results.map((r) => [r.key, r]));
  const { direct, bare, portkey } = by;
  const ok = run.results.filter((r) => !r.error && !r.skipped);
  const cs = run.params.concurrency;
  const out = [];

  out.push(`# byok-proxy benchmark (${run.params.mode})`, '');
  out.push(
    `${run.meta.date} · Node ${run.meta.node} · ${run.meta.cpus}× ${run.meta.cpuModel} · ${run.meta.commit} · ` +
      `took ${Math.round(run.meta.seconds)} s`,
    '',
  );
  out.push(
    table(
      [
        'target',
        ...cs.map((c) => `req/s c=${c}`),
        'seq p50',
        'seq p99',
        'added p50 / p99 vs direct',
        `c=${cs.at(-1)} vs bare`,
        `c=${cs.at(-1)} vs portkey`,
        'stream TTFB p50',
        'TTFB overhead vs direct',
        'RSS (10k → 100k req)',
      ],
      run.results.map((r) => {
        if (r.error)
          return [
            r.label,
            ...cs.map(() => '—'),
            `**failed**: ${r.error.split('\n')[0]}`,
            '',
            '',
            '',
            '',
            '',
            '',
            '',
          ];
        const top = r.throughput?.[cs.at(-1)]?.rps;
        return [
          r.label,
          ...cs.map((c) => rps(r.throughput?.[c]?.rps)),
          us(r.latency?.p50),
          us(r.latency?.p99),
          r.key === 'direct'
            ? '—'
            : `${plusUs(r.latency?.p50 - direct?.latency?.p50)} / ${plusUs(r.latency?.p99 - direct?.latency?.p99)}`,
          r.key === 'bare' || r.key === 'direct'
            ? '—'
            : ratio(top, bare?.throughput?.[cs.at(-1)]?.rps),
          r.key === 'portkey' || r.key === 'direct'
            ? '—'
            : ratio(top, portkey?.throughput?.[cs.at(-1)]?.rps),
          us(r.streaming?.ttfb.p50),
          r.key === 'direct' ? '—' : plusUs(r.streaming?.ttfb.p50 - direct?.streaming?.ttfb.p50),
          rssCell(r),
        ];
      }),
    ),
    '',
  );

  for (const r of ok.filter((x) => x.byok)) {
    out.push(`**Targets of issue 16 — ${r.label}**`, '');
    out.push(table(['target', 'measured', 'limit', 'verdict'], checkTargets(r, by)), '');
  }
  out.push(...limitsCostSection(run));
  out.push(...realtimeSection(run));
  out.push(...tracingCostSection(run));

  out.push('## Details', '');
  out.push(
    `Sequential latency (${run.params.latency.rounds} rounds × ${run.params.latency.requests} requests per target after ${run.params.latency.warmup} warm-up, one keep-alive connection):`,
    '',
    table(
      ['target', 'mean', 'p50', 'p90', 'p99', 'max'],
      ok.map((r) => [
        r.label,
        us(r.latency.mean),
        us(r.latency.p50),
        us(r.latency.p90),
        us(r.latency.p99),
        us(r.latency.max),
      ]),
    ),
    '',
  );
  out.push(
    `Throughput (autocannon, ${run.params.throughput.rounds} × ${run.params.throughput.duration} s per concurrency and target; its latencies have 1 ms resolution):`,
    '',
    table(
      ['target', ...cs.flatMap((c) => [`c=${c} req/s`, `c=${c} p50 / p99`])],
      ok.map((r) => [
        r.label,
        ...cs.flatMap((c) => [
          rps(r.throughput[c].rps),
          `${r.throughput[c].latencyMs.p50} / ${r.throughput[c].latencyMs.p99} ms`,
        ]),
      ]),
    ),
    '',
  );
  out.push(
    `Streaming (${run.params.streaming.rounds} × ${run.params.streaming.streams} sequential streams per target, ${run.params.stream.chunks} chunks ${run.params.stream.chunkDelayMs} ms apart):`,
    '',
    table(
      [
        'target',
        'TTFB p50',
        'TTFB p99',
        'TTFB overhead p50 / p99',
        'TTLB p50',
        'TTLB p99',
        'chunk lag p50 / p99',
        'added chunk lag p50 / p99',
      ],
      ok.map((r) => [
        r.label,
        us(r.streaming.ttfb.p50),
        us(r.streaming.ttfb.p99),
        r.key === 'direct'
          ? '—'
          : `${plusUs(r.streaming.ttfb.p50 - direct?.streaming?.ttfb.p50)} / ${plusUs(r.streaming.ttfb.p99 - direct?.streaming?.ttfb.p99)}`,
        us(r.streaming.ttlb.p50),
        us(r.streaming.ttlb.p99),
        r.streaming.lag ? `${us(r.streaming.lag.p50)} / ${us(r.streaming.lag.p99)}` : '—',
        r.key === 'direct' || !r.streaming.lag
          ? '—'
          : `${plusUs(r.streaming.lag.p50 - direct?.streaming?.lag?.p50)} / ${plusUs(r.streaming.lag.p99 - direct?.streaming?.lag?.p99)}`,
      ]),
    ),
    '',
  );
  out.push(
    'Memory (VmRSS of the proxy process; after 10k / 100k: median of 5 readings over 2 s once the load stopped, byok-proxy after a forced full GC):',
    '',
    table(
      ['target', 'ready', 'after 10k', 'after 100k', 'growth 10k → 100k', 'end of run'],
      ok
        .filter((r) => r.proc)
        .map((r) => [
          r.label,
          mib(r.rss.ready),
          mib(r.rss.after10k),
          mib(r.rss.after100k),
          pct(rssGrowth(r)),
          mib(r.rss.end),
        ]),
    ),
    '',
  );
  out.push(...microDetails(run));
  const notes = notesOf(run);
  if (notes.length) out.push('Notes:', '', ...notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

/** The line a report's hand-written analysis starts with: writeReport keeps what follows. */
export const HAND_WRITTEN =
  '<!-- Written by hand from here on: bench/run.mjs and render.mjs keep it when they rewrite the report. -->';

/**
 * Writes a rendered report over `file`, keeping the hand-written analysis at its end (each part
 * says which run it read).
 */
export function writeReport(file, md) {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = old.indexOf(HAND_WRITTEN);
  writeFileSync(file, `${md}\n${at < 0 ? '' : `\n${old.slice(at)}`}`);
}
