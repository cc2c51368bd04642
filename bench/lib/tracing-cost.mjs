// The cost of OpenTelemetry tracing (issue 20): throughput at c=64 with tracing on (every
// request traced and exported to a local OTLP sink) against the same server with tracing off.

/** Tracing on may cost this much throughput at c=64 against off. */
export const TRACING_COST_PCT = 5;

export function tracingCostSection(run) {
  const by = Object.fromEntries(run.results.map((r) => [r.key, r]));
  const on = by['byok-tracing']?.throughput?.[64]?.rps;
  const off = by['byok-warn']?.throughput?.[64]?.rps;
  if (!Number.isFinite(on) || !Number.isFinite(off)) return [];
  const cost = (1 - on / off) * 100;
  const verdict = cost <= TRACING_COST_PCT ? 'met' : 'missed';
  return [
    '**Cost of tracing (issue 20)**',
    '',
    '| measured | tracing off | tracing on | on / off | cost | target | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| throughput c=64, LOG_LEVEL=warn (req/s) | ${Math.round(off).toLocaleString('en-US')} | ${Math.round(on).toLocaleString('en-US')} | ${(on / off).toFixed(3)}× | ${cost.toFixed(1)} % | ≤ ${TRACING_COST_PCT} % | ${verdict} |`,
    '',
    'Tracing on: OTEL_EXPORTER_OTLP_ENDPOINT points at bench/servers/otlp-sink.mjs, every request is sampled (a server span and a client span, batched and exported as OTLP/HTTP JSON); off: no endpoint, so no SDK is started. Both rows are separate processes measured in the same rounds.',
    '',
  ];
}
