// The cost of OpenTelemetry tracing (issue 20): throughput at c=64 with tracing on (requests
// traced and exported to a local OTLP sink) against the same server with tracing off.

/** Tracing on may cost this much throughput at c=64 against off. */
export const TRACING_COST_PCT = 5;

/** The share of requests the sampled tracing row (`byok-tracing-sampled`) traces. */
export const SAMPLED_RATIO = 0.1;

const rps = (n) => Math.round(n).toLocaleString('en-US');

export function tracingCostSection(run) {
  const by = Object.fromEntries(run.results.map((r) => [r.key, r]));
  const off = by['byok-warn']?.throughput?.[64]?.rps;
  const rows = [
    ['every request sampled (the default sampler)', by['byok-tracing']],
    [`${SAMPLED_RATIO * 100} % sampled (parentbased_traceidratio)`, by['byok-tracing-sampled']],
  ]
    .map(([what, r]) => [what, r?.throughput?.[64]?.rps, r?.exportedSpans])
    .filter(([, on]) => Number.isFinite(on));
  if (!Number.isFinite(off) || !rows.length) return [];
  return [
    '**Cost of tracing (issue 20)**',
    '',
    '| throughput c=64, LOG_LEVEL=warn (req/s) | tracing off | tracing on | on / off | cost | target | verdict | spans the sink received |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(([what, on, spans]) => {
      const cost = (1 - on / off) * 100;
      // A row whose sink received nothing did not trace: its number says nothing.
      const verdict = !spans ? 'not traced' : cost <= TRACING_COST_PCT ? 'met' : 'missed';
      return `| ${what} | ${rps(off)} | ${rps(on)} | ${(on / off).toFixed(3)}× | ${cost.toFixed(1)} % | ≤ ${TRACING_COST_PCT} % | ${verdict} | ${spans?.toLocaleString('en-US') ?? '—'} |`;
    }),
    '',
    'Tracing on: OTEL_EXPORTER_OTLP_ENDPOINT points at bench/servers/otlp-sink.mjs (each row its own sink process, sharing the machine), a sampled request is a server span and a client span, batched and exported as OTLP/HTTP protobuf (the default); off: no endpoint, so no SDK is started. The rows are separate processes measured in the same rounds.',
    '',
  ];
}
