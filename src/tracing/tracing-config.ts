import type { EnvSchema } from '../config/env.schema';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** OpenTelemetry traces, from the standard OTEL_* variables; absent when tracing is off. */
export interface TracingConfig {
  /** Where spans are posted (OTLP/HTTP), `/v1/traces` included. */
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampler: SamplerName;
  samplerRatio: number;
  scheduleDelayMs: number;
  exportTimeoutMs: number;
}

/**
 * `k1=v1,k2=v2` (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS), values percent-decoded;
 * a pair without `=` is a problem named after its variable.
 */
function keyValues(name: string, text: string | undefined, problems: string[]) {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push(`${name} must be a list of key=value pairs separated by commas`);
      continue;
    }
    try {
      out[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      problems.push(`${name}: the value of ${pair.slice(0, eq).trim()} is not percent-encoded`);
    }
  }
  return out;
}

/** On when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set. */
export function tracingConfig(e: EnvSchema, problems: string[]): TracingConfig | undefined {
  const endpoint = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (endpoint && `${endpoint.replace(/\/+$/, '')}/v1/traces`);
  if (!url || e.OTEL_SDK_DISABLED || e.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const resource = keyValues('OTEL_RESOURCE_ATTRIBUTES', e.OTEL_RESOURCE_ATTRIBUTES, problems);
  return {
    url,
    protocol: (e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
      e.OTEL_EXPORTER_OTLP_PROTOCOL) as OtlpProtocol,
    headers: {
      ...keyValues('OTEL_EXPORTER_OTLP_HEADERS', e.OTEL_EXPORTER_OTLP_HEADERS, problems),
      ...keyValues(
        'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
        e.OTEL_EXPORTER_OTLP_TRACES_HEADERS,
        problems,
      ),
    },
    serviceName: e.OTEL_SERVICE_NAME ?? resource['service.name'] ?? 'byok-proxy',
    resourceAttributes: resource,
    sampler: e.OTEL_TRACES_SAMPLER as SamplerName,
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG,
    scheduleDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
    exportTimeoutMs: e.OTEL_EXPORTER_OTLP_TIMEOUT,
  };
}
