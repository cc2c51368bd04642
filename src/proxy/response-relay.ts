import { Injectable, Logger } from '@nestjs/common';
import { once } from 'node:events';
import { pipeline, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import type { Caller } from '../auth/caller';
import type { AppError } from '../common/errors/app-error';
import type { KeyCandidate } from '../keys/key-resolver.service';
import { LimitsService } from '../limits/limits.service';
import { PriceTable } from '../usage/prices';
import { UsageRecorder } from '../usage/usage.recorder';
import { filterResponseHeaders } from './headers';
import { createScrubber } from './key-scrubber';
import type { ProxyTarget } from './proxy-target';
import { isEventStream, openAiErrorEvent } from './sse';
import { UsageSniffer } from './usage-sniffer';
import type { UpstreamResponse } from './upstream.client';

const DECODERS: Record<string, () => Transform> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
};

function decoded(up: UpstreamResponse): AsyncIterable<Buffer> {
  const encoding = String(up.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const make = DECODERS[encoding];
  if (!make) return up.body as AsyncIterable<Buffer>;
  const decoder = make();
  pipeline(up.body, decoder, () => undefined);
  return decoder;
}

/** What the proxy knows of one request as it goes; usage and metrics are built from it. */
export interface Exchange {
  requestId: string;
  started: number;
  caller?: Caller;
  target?: ProxyTarget;
  candidate?: KeyCandidate;
}

/**
 * Relays an upstream response to the client as it arrives: chunk by chunk, never buffered,
 * with any key the provider echoes replaced by its hint. A client that goes away aborts the
 * upstream; an upstream that fails mid-stream ends an SSE stream with an error event (and
 * cuts any other body), so no client mistakes it for a clean finish.
 */
@Injectable()
export class ResponseRelay {
  private readonly logger = new Logger('Proxy');

  constructor(
    private readonly usage: UsageRecorder,
    private readonly limits: LimitsService,
    private readonly prices: PriceTable,
  ) {}

  async relay(
    res: ServerResponse,
    up: UpstreamResponse,
    ex: Exchange,
    tried: KeyCandidate[],
    abort: AbortController,
  ): Promise<void> {
    const target = ex.target!;
    const candidate = ex.candidate!;
    const headers = filterResponseHeaders(up.headers);
    // We ask for identity; a provider that compresses anyway is decoded here, or the scrubber
    // could not see an echoed key inside the compressed bytes.
    const body = decoded(up);
    if (body !== up.body) delete headers['content-encoding'];
    headers['x-byok-provider'] = target.provider.id;
    headers['x-byok-key-source'] = candidate.source;
    headers['x-request-id'] = ex.requestId;
    res.writeHead(up.statusCode, headers);
    const sse = isEventStream(up.headers['content-type']);
    // A stream's headers go out at once (a client may wait long for the first event); other
    // answers send headers with the first chunk, one write instead of two.
    if (sse) res.flushHeaders();

    const scrubber = createScrubber(tried.map((c) => ({ value: c.secret.reveal(), hint: c.hint })));
    const sniffer = new UsageSniffer();
    let firstChunkAt: number | undefined;
    let failure: string | undefined;
    try {
      for await (const chunk of body) {
        firstChunkAt ??= performance.now();
        sniffer.push(chunk);
        const out = scrubber.push(chunk);
        if (out.length && !res.write(out)) await once(res, 'drain', { signal: abort.signal });
      }
      res.end(scrubber.flush());
    } catch (e) {
      if (abort.signal.aborted) {
        failure = 'client_closed';
      } else {
        failure = (e as { code?: string }).code ?? (e as Error).name;
        this.logger.warn(`${target.provider.id} failed mid-response (${failure})`);
        if (sse && !res.destroyed) {
          res.end(
            Buffer.concat([
              scrubber.flush(),
              openAiErrorEvent(
                'upstream_unavailable',
                `${target.provider.name} stopped mid-stream (${failure}); the response is incomplete`,
                'api_error',
              ),
            ]),
          );
        } else {
          res.destroy();
        }
      }
    }
    const usage = sniffer.usage();
    const model = target.model ?? sniffer.model();
    this.usage.record({
      ex,
      status: up.statusCode,
      errorType: failure ?? (up.statusCode >= 400 ? String(up.statusCode) : undefined),
      usage,
      firstChunkAt,
      model,
    });
    const prompt = usage.promptTokens ?? 0;
    const completion = usage.completionTokens ?? 0;
    if (ex.caller && prompt + completion > 0)
      this.limits
        .record(
          ex.caller,
          candidate,
          prompt + completion,
          this.prices.cost(target.provider.id, model ?? null, prompt, completion),
        )
        .catch((e: unknown) => this.logger.warn(`Counting tokens failed: ${(e as Error).message}`));
  }

  recordFailure(ex: Exchange, err: AppError): void {
    if (!ex.caller) return;
    this.usage.record({ ex, status: err.status, errorType: err.code, model: ex.target?.model });
  }
}
