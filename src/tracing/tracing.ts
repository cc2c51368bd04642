import {
  context,
  type Context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { accessDetails } from '../common/logging';
import type { AppConfig } from '../config/app-config';
import type { SecretStore } from '../secret-store/secret-store.port';
import { type OtelSdk, startOtel } from './otel-sdk';
import { propagator, ProxyTrace } from './proxy-trace';
import { TracedSecretStore } from './traced-secret-store';

/** The caller's trace context (`traceparent`, `tracestate`), continued by our spans. */
function incoming(headers: IncomingHttpHeaders): Context {
  return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

/** `trace_id` and `span_id` of the active span, for log lines written inside a request. */
export function traceLogFields(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

const API_CONTEXT = Symbol('apiTraceContext');
type TracedRequest = FastifyRequest & { [API_CONTEXT]?: Context };

/**
 * OpenTelemetry traces for one application, or nothing: with no OTLP endpoint configured no SDK
 * is started, proxyRequest() returns undefined and no hook, wrapper or log field is installed,
 * so the proxy's hot path does no tracing work at all.
 */
export class Tracing {
  private constructor(private readonly sdk?: OtelSdk) {}

  static start(config: AppConfig): Tracing {
    return new Tracing(config.tracing && startOtel(config.tracing));
  }

  get enabled(): boolean {
    return this.sdk !== undefined;
  }

  /** The spans of a proxied request (see ProxyTrace); undefined while tracing is off. */
  proxyRequest(req: IncomingMessage, res: ServerResponse): ProxyTrace | undefined {
    if (!this.sdk) return undefined;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    return new ProxyTrace(
      this.sdk.tracer,
      incoming(req.headers),
      req.method ?? 'GET',
      q < 0 ? url : url.slice(0, q),
      accessDetails(res),
    );
  }

  /**
   * A SERVER span per `/api` request, named after its route (`POST /api/user/api-keys`), active
   * while the handler runs so the database and secret-store spans it causes sit under it.
   */
  traceApi(fastify: FastifyInstance): void {
    const tracer = this.sdk?.tracer;
    if (!tracer) return;
    fastify.addHook('onRequest', (req: TracedRequest, reply, done) => {
      if (!req.url.startsWith('/api/')) return done();
      const parent = incoming(req.headers);
      const route = req.routeOptions.url;
      const span = tracer.startSpan(
        route ? `${req.method} ${route}` : req.method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': req.method,
            'http.route': route,
            'url.path': req.url.split('?', 1)[0],
          },
        },
        parent,
      );
      const ctx = trace.setSpan(parent, span);
      req[API_CONTEXT] = ctx;
      const access = accessDetails(reply.raw);
      ({ traceId: access.traceId, spanId: access.spanId } = span.spanContext());
      reply.raw.once('close', () => {
        const status = reply.raw.statusCode;
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      context.with(ctx, done);
    });
    // The body arrives outside the request's context: the handler gets it back here.
    fastify.addHook('preHandler', (req: TracedRequest, _reply, done) => {
      const ctx = req[API_CONTEXT];
      if (ctx) context.with(ctx, done);
      else done();
    });
  }

  /** The store, its calls traced when tracing is on. */
  secretStore(store: SecretStore): SecretStore {
    return this.sdk ? new TracedSecretStore(store, this.sdk.tracer) : store;
  }

  /** Sends what is still queued, then stops. */
  async shutdown(): Promise<void> {
    await this.sdk?.shutdown();
  }
}
