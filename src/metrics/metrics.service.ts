import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ErrorTypeLabels, operationLabel, statusLabel } from './labels';

const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];
const MAX_MODELS = 200;
/** Longer model names are reported as `other`. */
const MAX_MODEL_LENGTH = 128;
/**
 * Distinct (provider, model, operation, error_type) label sets; past this, new ones are counted
 * under (provider, other, other, other), so the size of /metrics has a ceiling whatever is sent.
 */
export const MAX_SERIES = 500;

const GENAI = ['gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_operation_name'] as const;

/**
 * A latency bucket keeps a new exemplar at most this often: a scrape shows one per bucket, and
 * recording one costs prom-client a label hash and a validation on every traced request.
 */
const EXEMPLAR_EVERY_MS = 1000;

type Observer = { observe(v: number): void };
type Bound = Record<'duration' | 'firstChunk' | 'input' | 'output', Observer> & {
  labels: Record<(typeof GENAI)[number], string>;
  errorType: string;
  /** When each latency bucket (DURATION_BUCKETS, then +Inf) last took an exemplar. */
  durationExemplarAt: Float64Array;
  firstChunkExemplarAt: Float64Array;
};

/** True when `seconds`' bucket has had no exemplar for EXEMPLAR_EVERY_MS (and marks it taken). */
function exemplarDue(takenAt: Float64Array, seconds: number, now: number): boolean {
  let bucket = 0;
  while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]) bucket++;
  if (now - takenAt[bucket] < EXEMPLAR_EVERY_MS) return false;
  takenAt[bucket] = now;
  return true;
}

export interface OperationSample {
  provider: string;
  model?: string;
  operation: string;
  keySource: string;
  status: number;
  errorType?: string;
  seconds: number;
  firstChunkSeconds?: number;
  promptTokens?: number;
  completionTokens?: number;
  /** The request's sampled trace, kept as the latency histograms' exemplar. */
  traceId?: string;
}

/**
 * Prometheus metrics: OpenTelemetry GenAI client metrics in their Prometheus form, plus our own
 * `byok_*`. A registry per app instance (tests run several in one process). Every label value
 * comes from a bounded set, since /metrics must not grow with what callers send: providers from
 * the registry, operations from GENAI_OPERATIONS, statuses and error types from `labels.ts`, and
 * model names (chosen by clients) up to MAX_MODELS distinct values, then "other"; label sets
 * past MAX_SERIES are folded into one per provider.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly models = new Set<string>();
  private readonly errorTypes = new ErrorTypeLabels();
  private readonly bound = new Map<string, Bound>();

  // The latency histograms keep trace-id exemplars (shown in OpenMetrics only: exposition.ts).
  // prom-client refuses them on a Prometheus registry at construction, so they are registered
  // below; <string>: its types take exemplar label names for metric label names.
  private readonly duration = new Histogram<string>({
    name: 'gen_ai_client_operation_duration_seconds',
    help: 'GenAI operation duration (OpenTelemetry gen_ai.client.operation.duration)',
    labelNames: [...GENAI, 'error_type'],
    buckets: DURATION_BUCKETS,
    registers: [],
    enableExemplars: true,
  });

  private readonly firstChunk = new Histogram<string>({
    name: 'gen_ai_client_operation_time_to_first_chunk_seconds',
    help: 'Time to the first chunk of a response (gen_ai.client.operation.time_to_first_chunk)',
    labelNames: GENAI,
    buckets: DURATION_BUCKETS,
    registers: [],
    enableExemplars: true,
  });

  private readonly tokens = new Histogram({
    name: 'gen_ai_client_token_usage',
    help: 'Tokens used per operation (OpenTelemetry gen_ai.client.token.usage)',
    labelNames: [...GENAI, 'gen_ai_token_type'],
    buckets: TOKEN_BUCKETS,
    registers: [this.registry],
  });

  private readonly requests = new Counter({
    name: 'byok_proxy_requests_total',
    help: 'Proxied requests by provider, HTTP status and key source',
    labelNames: ['provider', 'status', 'key_source'],
    registers: [this.registry],
  });

  private readonly limited = new Counter({
    name: 'byok_rate_limited_total',
    help: 'Requests refused or keys skipped by one of our own limits, by scope and limit type',
    labelNames: ['scope', 'limit'],
    registers: [this.registry],
  });

  private readonly usageTokens = new Counter({
    name: 'byok_usage_tokens_total',
    help: 'Tokens reported by providers, by provider, key source and token type',
    labelNames: ['provider', 'key_source', 'token_type'],
    registers: [this.registry],
  });

  private readonly usageCost = new Counter({
    name: 'byok_usage_cost_usd_total',
    help: 'Estimated cost in USD from the price table (models without a price are not counted)',
    labelNames: ['provider', 'key_source'],
    registers: [this.registry],
  });

  private readonly droppedRows = new Counter({
    name: 'byok_rows_dropped_total',
    help: 'Usage and audit rows given up because the database was away longer than the queue lasts',
    labelNames: ['table'],
    registers: [this.registry],
  });

  private readonly failovers = new Counter({
    name: 'byok_key_failovers_total',
    help: 'Requests moved on to the next key, by provider and the status the previous key got',
    labelNames: ['provider', 'status'],
    registers: [this.registry],
  });

  private readonly invalidated = new Counter({
    name: 'byok_keys_invalidated_total',
    help: 'Keys marked invalid because the provider refused them on its verify request',
    labelNames: ['provider', 'key_source'],
    registers: [this.registry],
  });

  private readonly spilledRows = new Counter({
    name: 'byok_rows_spilled_total',
    help: 'Usage and audit rows written to the spill file under DATA_DIR while the database was away',
    labelNames: ['table'],
    registers: [this.registry],
  });

  private dependencyProbe?: () => Promise<Record<string, boolean>>;

  constructor() {
    this.registry.registerMetric(this.duration);
    this.registry.registerMetric(this.firstChunk);
    collectDefaultMetrics({ register: this.registry });
    const probe = () => this.dependencyProbe?.();
    new Gauge({
      name: 'byok_dependency_up',
      help: '1 while a dependency answers (database, secret_store, limits), 0 while it does not; probed at each scrape',
      labelNames: ['dependency'],
      registers: [this.registry],
      async collect() {
        for (const [dependency, up] of Object.entries((await probe()) ?? {}))
          this.set({ dependency }, up ? 1 : 0);
      },
    });
  }

  /** What byok_dependency_up reports, asked at each scrape (the readiness check). */
  watchDependencies(probe: () => Promise<Record<string, boolean>>): void {
    this.dependencyProbe = probe;
  }

  failover(provider: string, status: number): void {
    this.failovers.inc({ provider, status: String(status) });
  }

  keyInvalidated(provider: string, keySource: string): void {
    this.invalidated.inc({ provider, key_source: keySource });
  }

  rowsSpilled(table: string, count: number): void {
    this.spilledRows.inc({ table }, count);
  }

  rowsDropped(table: string, count: number): void {
    this.droppedRows.inc({ table }, count);
  }

  rateLimited(scope: string, limit: string): void {
    this.limited.inc({ scope, limit });
  }

  usage(
    provider: string,
    keySource: string,
    input: number,
    output: number,
    costUsd: number | null,
  ) {
    if (input)
      this.usageTokens.inc({ provider, key_source: keySource, token_type: 'input' }, input);
    if (output)
      this.usageTokens.inc({ provider, key_source: keySource, token_type: 'output' }, output);
    if (costUsd) this.usageCost.inc({ provider, key_source: keySource }, costUsd);
  }

  observe(s: OperationSample): void {
    const c = this.children(
      s.provider,
      this.modelLabel(s.model),
      operationLabel(s.operation),
      this.errorTypes.label(s.errorType),
    );
    const now = s.traceId ? performance.now() : 0;
    if (s.traceId && exemplarDue(c.durationExemplarAt, s.seconds, now))
      this.duration.observe({
        labels: { ...c.labels, error_type: c.errorType },
        value: s.seconds,
        exemplarLabels: { trace_id: s.traceId },
      });
    else c.duration.observe(s.seconds);
    const firstChunk = s.firstChunkSeconds;
    if (firstChunk !== undefined) {
      if (s.traceId && exemplarDue(c.firstChunkExemplarAt, firstChunk, now))
        this.firstChunk.observe({
          labels: c.labels,
          value: firstChunk,
          exemplarLabels: { trace_id: s.traceId },
        });
      else c.firstChunk.observe(firstChunk);
    }
    if (s.promptTokens !== undefined) c.input.observe(s.promptTokens);
    if (s.completionTokens !== undefined) c.output.observe(s.completionTokens);
    this.requests.inc({
      provider: s.provider,
      status: statusLabel(s.status),
      key_source: s.keySource,
    });
  }

  /** Label-bound children, built once per label set: validating labels per request was hot. */
  private children(provider: string, model: string, operation: string, errorType: string) {
    let id = `${provider}\u0000${model}\u0000${operation}\u0000${errorType}`;
    let c = this.bound.get(id);
    if (!c && this.bound.size >= MAX_SERIES) {
      [model, operation, errorType] = ['other', 'other', 'other'];
      id = `${provider}\u0000other\u0000other\u0000other`;
      c = this.bound.get(id);
    }
    if (!c) {
      const labels = {
        gen_ai_provider_name: provider,
        gen_ai_request_model: model,
        gen_ai_operation_name: operation,
      };
      c = {
        labels,
        errorType,
        duration: this.duration.labels({ ...labels, error_type: errorType }),
        firstChunk: this.firstChunk.labels(labels),
        input: this.tokens.labels({ ...labels, gen_ai_token_type: 'input' }),
        output: this.tokens.labels({ ...labels, gen_ai_token_type: 'output' }),
        durationExemplarAt: new Float64Array(DURATION_BUCKETS.length + 1).fill(-Infinity),
        firstChunkExemplarAt: new Float64Array(DURATION_BUCKETS.length + 1).fill(-Infinity),
      };
      this.bound.set(id, c);
    }
    return c;
  }

  private modelLabel(model?: string): string {
    if (!model) return '';
    if (this.models.has(model)) return model;
    if (this.models.size >= MAX_MODELS || model.length > MAX_MODEL_LENGTH) return 'other';
    this.models.add(model);
    return model;
  }
}
