import { Logger } from '@nestjs/common';
import { context, diag, DiagLogLevel, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import * as pg from 'pg';
import type { SamplerName, TracingConfig } from './tracing-config';

export const TRACER_NAME = 'byok-proxy';

/** The running SDK: a tracer of our own provider, and how to flush and stop it. */
export interface OtelSdk {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

function sampler(name: SamplerName, ratio: number): Sampler {
  const root = name.endsWith('always_off')
    ? new AlwaysOffSampler()
    : name.endsWith('traceidratio')
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/**
 * The `pg` client's queries as CLIENT spans, for queries made inside a traced request only
 * (background batch writes would be noise). The `pg` module is patched directly rather than
 * through a require hook: TypeORM loads the same module, and hooks miss modules already loaded.
 */
function instrumentPg(provider: TracerProvider): () => void {
  const instrumentation = new PgInstrumentation({ enabled: false, requireParentSpan: true });
  instrumentation.setTracerProvider(provider);
  const definition = instrumentation.getModuleDefinitions().find((d) => d.name === 'pg');
  definition?.patch?.(pg);
  return () => definition?.unpatch?.(pg);
}

/**
 * OpenTelemetry's own warnings and errors (a collector that cannot be reached or refuses an
 * export, a full span queue) as lines of our log; without this they go nowhere.
 */
function logDiagnostics(): void {
  const logger = new Logger('OpenTelemetry');
  const line = (message: string, args: unknown[]) => [message, ...args.map(String)].join(' ');
  const ignore = () => undefined;
  diag.setLogger(
    {
      error: (message, ...args) => logger.error(line(message, args)),
      warn: (message, ...args) => logger.warn(line(message, args)),
      info: ignore,
      debug: ignore,
      verbose: ignore,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

/**
 * Starts the OpenTelemetry SDK for one application: a tracer provider of its own (never the
 * global one, so nothing else in the process reports through it), a batch exporter to the OTLP
 * endpoint (protobuf or JSON), the process's async context manager (spans started inside a
 * request find their parent), `pg` spans, and its diagnostics in our log.
 */
export function startOtel(config: TracingConfig): OtelSdk {
  logDiagnostics();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      'service.name': config.serviceName,
    }),
    sampler: sampler(config.sampler, config.samplerRatio),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new (config.protocol === 'http/json' ? JsonExporter : ProtobufExporter)({
          url: config.url,
          headers: config.headers,
          timeoutMillis: config.exportTimeoutMs,
        }),
        scheduledDelayMillis: config.scheduleDelayMs,
      }),
    ],
  });
  const ownsContext = context.setGlobalContextManager(
    new AsyncLocalStorageContextManager().enable(),
  );
  const unpatchPg = instrumentPg(provider);
  return {
    tracer: provider.getTracer(TRACER_NAME),
    shutdown: async () => {
      unpatchPg();
      if (ownsContext) context.disable();
      await provider.shutdown();
      diag.disable();
    },
  };
}
