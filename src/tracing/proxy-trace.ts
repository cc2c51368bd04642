import {
  context,
  type Context,
  defaultTextMapSetter,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { ServerResponse } from 'node:http';
import type { AccessDetails } from '../common/logging';
import type { Exchange, ExchangeOutcome } from '../proxy/exchange';
import type { ProxyTarget } from '../proxy/proxy-target';

export const propagator = new W3CTraceContextPropagator();

/** Why the proxy moved on to the next key (byok.failover.reason), by the status the key got. */
const FAILOVER_REASONS: Record<number, string> = {
  401: 'unauthorized',
  403: 'forbidden',
  429: 'rate_limited',
};

/** `{gen_ai.operation.name} {gen_ai.request.model}`, as the GenAI conventions name spans. */
function spanName(target: ProxyTarget): string {
  return target.model ? `${target.operation} ${target.model}` : target.operation;
}

const servers = new Map<string, { address: string; port: number } | null>();

/**
 * Where an attempt goes (`server.address`, `server.port`): host and port only, the path and query
 * are the caller's. Parsed once per origin; the cache is bounded.
 */
function server(url: string): { address: string; port: number } | null {
  const end = url.indexOf('/', url.indexOf('//') + 2);
  const origin = end < 0 ? url : url.slice(0, end);
  let found = servers.get(origin);
  if (found === undefined) {
    try {
      const u = new URL(origin);
      found = {
        address: u.hostname,
        port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80,
      };
    } catch {
      found = null;
    }
    if (servers.size >= 256) servers.clear();
    servers.set(origin, found);
  }
  return found;
}

/**
 * The spans of one proxied request: a SERVER span for the request (continuing the caller's
 * `traceparent`) and a CLIENT span per upstream attempt under it. Attributes name the provider,
 * model, operation, tokens and which key answered (source and hint): never a key, a token, a
 * header or a body. Only created while tracing is on (Tracing.proxyRequest).
 */
export class ProxyTrace {
  private readonly span: Span;
  private readonly recording: boolean;
  private readonly context: Context;
  private attemptSpan?: Span;
  private attempts = 0;

  constructor(
    private readonly tracer: Tracer,
    parent: Context,
    method: string,
    path: string,
    access: AccessDetails,
  ) {
    this.span = tracer.startSpan(
      `${method} ${path.startsWith('/proxy/') ? '/proxy' : '/v1'}`,
      { kind: SpanKind.SERVER },
      parent,
    );
    // A request the sampler left out gets no attributes and no attempt spans (they would be
    // left out too: every sampler offered decides by the parent or the trace id), so a skipped
    // request costs little more than its ids, not the validation of attributes nobody sees.
    this.recording = this.span.isRecording();
    if (this.recording)
      this.span.setAttributes({ 'http.request.method': method, 'url.path': path });
    this.context = trace.setSpan(parent, this.span);
    const { traceId, spanId } = this.span.spanContext();
    access.traceId = traceId;
    access.spanId = spanId;
  }

  /** The trace id, when the trace is sampled (an exemplar pointing nowhere is no use). */
  get sampledTraceId(): string | undefined {
    const { traceId, traceFlags } = this.span.spanContext();
    return traceFlags & TraceFlags.SAMPLED ? traceId : undefined;
  }

  /** Runs `fn` with the request's span active: logs and database spans find it. */
  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  /**
   * Starts the CLIENT span of the next upstream attempt (ex.candidate's key). The provider gets
   * the trace context in `headers` only when the operator allows it (`<ID>_PROPAGATE_TRACE`).
   */
  attempt(ex: Exchange, headers: Record<string, string>): void {
    this.attemptSpan?.end();
    const target = ex.target!;
    if (!this.recording) {
      // Not sampled: the provider, when allowed, continues the trace from the request's span.
      if (target.provider.propagateTrace)
        propagator.inject(this.context, headers, defaultTextMapSetter);
      return;
    }
    const key = ex.candidate!;
    const to = server(target.url);
    const span = this.tracer.startSpan(
      spanName(target),
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': target.operation,
          'gen_ai.provider.name': target.provider.id,
          'gen_ai.request.model': target.model,
          'server.address': to?.address,
          'server.port': to?.port,
          'http.request.method': target.method,
          'byok.attempt': ++this.attempts,
          'byok.key.source': key.source,
          'byok.key.hint': key.hint,
        },
      },
      this.context,
    );
    if (target.provider.propagateTrace)
      propagator.inject(trace.setSpan(this.context, span), headers, defaultTextMapSetter);
    this.attemptSpan = span;
  }

  /** The attempt's key got `status` and the next key is tried. */
  failover(status: number): void {
    this.attemptSpan?.setAttributes({
      'http.response.status_code': status,
      'error.type': String(status),
      'byok.failover.reason': FAILOVER_REASONS[status] ?? String(status),
    });
    this.attemptSpan?.end();
    this.attemptSpan = undefined;
  }

  /** Ends the spans once the answer is complete (`outcome` undefined: no usage to report). */
  end(ex: Exchange, outcome: ExchangeOutcome | undefined, res: ServerResponse): void {
    if (!this.recording) return this.span.end();
    const status = outcome?.status ?? res.statusCode;
    const errorType =
      outcome?.errorType ?? (outcome || res.writableFinished ? undefined : 'client_closed');
    const failed = status >= 500 || (status < 400 && errorType !== undefined);
    const responseModel = outcome?.model;
    const inputTokens = outcome?.usage?.promptTokens;
    const outputTokens = outcome?.usage?.completionTokens;
    const attempt = this.attemptSpan;
    if (attempt) {
      attempt.setAttributes({
        'http.response.status_code': status,
        'gen_ai.response.model': responseModel,
        'gen_ai.usage.input_tokens': inputTokens,
        'gen_ai.usage.output_tokens': outputTokens,
        'error.type': errorType,
      });
      if (failed) attempt.setStatus({ code: SpanStatusCode.ERROR });
      attempt.end();
    }
    const target = ex.target;
    if (target) this.span.updateName(spanName(target));
    this.span.setAttributes({
      'gen_ai.operation.name': target?.operation,
      'gen_ai.provider.name': target?.provider.id,
      'gen_ai.request.model': target?.model,
      'byok.key.source': ex.candidate?.source,
      'byok.key.hint': ex.candidate?.hint,
      'http.response.status_code': status,
      'gen_ai.response.model': responseModel,
      'gen_ai.usage.input_tokens': inputTokens,
      'gen_ai.usage.output_tokens': outputTokens,
      'error.type': errorType,
      'byok.attempts': this.attempts,
    });
    if (failed) this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.span.end();
  }
}
