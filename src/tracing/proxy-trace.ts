import {
  type Attributes,
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

function genAi(target: ProxyTarget): Attributes {
  return {
    'gen_ai.operation.name': target.operation,
    'gen_ai.provider.name': target.provider.id,
    'gen_ai.request.model': target.model,
  };
}

/** Where an attempt goes: host and port only (the path and query are the caller's). */
function server(url: string): Attributes {
  try {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return { 'server.address': u.hostname, 'server.port': port };
  } catch {
    return {};
  }
}

function outcomeAttributes(
  status: number,
  outcome: ExchangeOutcome | undefined,
  res: ServerResponse,
): Attributes {
  return {
    'http.response.status_code': status,
    'gen_ai.response.model': outcome?.model,
    'gen_ai.usage.input_tokens': outcome?.usage?.promptTokens,
    'gen_ai.usage.output_tokens': outcome?.usage?.completionTokens,
    'error.type':
      outcome?.errorType ?? (outcome || res.writableFinished ? undefined : 'client_closed'),
  };
}

/**
 * The spans of one proxied request: a SERVER span for the request (continuing the caller's
 * `traceparent`) and a CLIENT span per upstream attempt under it. Attributes name the provider,
 * model, operation, tokens and which key answered (source and hint): never a key, a token, a
 * header or a body. Only created while tracing is on (Tracing.proxyRequest).
 */
export class ProxyTrace {
  private readonly span: Span;
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
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } },
      parent,
    );
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
    const key = ex.candidate!;
    const span = this.tracer.startSpan(
      spanName(target),
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...genAi(target),
          ...server(target.url),
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
    const status = outcome?.status ?? res.statusCode;
    const attributes = outcomeAttributes(status, outcome, res);
    const failed = status >= 500 || (status < 400 && attributes['error.type'] !== undefined);
    if (this.attemptSpan) {
      this.attemptSpan.setAttributes(attributes);
      if (failed) this.attemptSpan.setStatus({ code: SpanStatusCode.ERROR });
      this.attemptSpan.end();
    }
    if (ex.target) {
      this.span.updateName(spanName(ex.target));
      this.span.setAttributes(genAi(ex.target));
    }
    if (ex.candidate)
      this.span.setAttributes({
        'byok.key.source': ex.candidate.source,
        'byok.key.hint': ex.candidate.hint,
      });
    this.span.setAttributes({ ...attributes, 'byok.attempts': this.attempts });
    if (failed) this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.span.end();
  }
}
