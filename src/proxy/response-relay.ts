import { Injectable, Logger } from '@nestjs/common';
import { once } from 'node:events';
import { pipeline, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import type { AccessDetails } from '../common/logging';
import { failureReason, upstreamUnavailable } from '../upstream/upstream-error';
import { filterResponseHeaders } from '../upstream/upstream-headers';
import type { UpstreamResponse } from '../upstream/upstream.client';
import type { Exchange, ExchangeOutcome } from './exchange';
import {
  type Scrubber,
  scrubberFor,
  type ScrubSecret,
  scrubText,
  secretsOf,
  spellingsOfKeys,
  type TriedKey,
} from './key-scrubber';
import type { ProxyTarget } from './proxy-target';
import { isEventStream, openAiErrorEvent } from './sse';
import { UsageChunkFilter } from './stream-usage';
import { UsageSniffer } from './usage-sniffer';

/** Answers up to this size with a known length are sent in one write. */
const WHOLE_BODY_LIMIT = 256 * 1024;

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

/**
 * A provider that echoes the key in a response header gets its hint there too, spelled `...abcd`
 * since header values must be Latin-1. Every spelling of every key is looked for once per
 * header; only a header that holds one is rewritten.
 */
function scrubHeaders(
  headers: Record<string, string | string[]>,
  tried: readonly TriedKey[],
): void {
  const spellings = spellingsOfKeys(tried);
  let ascii: ScrubSecret[] | undefined;
  for (const name in headers) {
    const value = headers[name];
    const text = Array.isArray(value) ? value.join('\n') : value;
    if (!spellings.some((v) => text.includes(v))) continue;
    ascii ??= secretsOf(tried).map((s) => ({ value: s.value, hint: s.hint.replace('…', '...') }));
    const clean = scrubText(text, ascii);
    headers[name] = Array.isArray(value) ? clean.split('\n') : clean;
  }
}

/**
 * Relays an upstream response to the client as it arrives: chunk by chunk, never buffered
 * (small answers of known length, which nobody streams, go in one write),
 * with any key the provider echoes replaced by its hint. A client that goes away aborts the
 * upstream; an upstream that fails mid-stream ends an SSE stream with an error event (and
 * cuts any other body), so no client mistakes it for a clean finish. It returns how the
 * exchange ended (status, tokens reported, timings) for the usage event.
 */
@Injectable()
export class ResponseRelay {
  private readonly logger = new Logger('Proxy');

  async relay(
    res: ServerResponse,
    up: UpstreamResponse,
    ex: Exchange,
    tried: readonly TriedKey[],
    abort: AbortController,
    access: AccessDetails,
  ): Promise<ExchangeOutcome> {
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
    scrubHeaders(headers, tried);
    const scrubber = scrubberFor(tried);
    const sniffer = new UsageSniffer();
    const sse = isEventStream(up.headers['content-type']);
    const length = Number(up.headers['content-length'] ?? NaN);
    let firstChunkAt: number | undefined;
    let failure: string | undefined;

    if (!sse && length <= WHOLE_BODY_LIMIT) {
      // A small answer of known length (a plain JSON completion): read, scrub and send it in one
      // write with its length. Streams and large bodies take the chunk-by-chunk path below.
      const parts: Buffer[] = [];
      try {
        for await (const chunk of body) parts.push(chunk);
      } catch (e) {
        if (abort.signal.aborted) throw e;
        throw upstreamUnavailable(
          e,
          (reason) => `${target.provider.name} failed mid-response (${reason})`,
        );
      }
      const whole = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      firstChunkAt = performance.now();
      sniffer.push(whole);
      const out = scrubber.all(whole);
      headers['content-length'] = String(out.length);
      access.bytesOut = out.length;
      res.writeHead(up.statusCode, headers);
      res.end(out);
    } else {
      res.writeHead(up.statusCode, headers);
      // A stream's headers go out at once: a client may wait long for the first event.
      if (sse) res.flushHeaders();
      // The usage chunk the proxy asked for on the client's behalf is counted, then dropped.
      const usageChunk = sse && target.hideUsageChunk ? new UsageChunkFilter() : undefined;
      let sent = 0;
      try {
        for await (const chunk of body) {
          firstChunkAt ??= performance.now();
          sniffer.push(chunk);
          const out = scrubber.push(usageChunk ? usageChunk.push(chunk) : chunk);
          sent += out.length;
          if (out.length && !res.write(out)) await once(res, 'drain', { signal: abort.signal });
        }
        const rest = usageChunk ? scrubber.push(usageChunk.flush()) : Buffer.alloc(0);
        const last = Buffer.concat([rest, scrubber.flush()]);
        access.bytesOut = sent + last.length;
        res.end(last);
      } catch (e) {
        access.bytesOut = sent;
        failure = abort.signal.aborted
          ? 'client_closed'
          : this.endBroken(res, target, e, sse, scrubber);
      }
    }
    return {
      status: up.statusCode,
      errorType: failure ?? (up.statusCode >= 400 ? String(up.statusCode) : undefined),
      usage: sniffer.usage(),
      firstChunkAt,
      model: sniffer.model(),
    };
  }

  /** Ends a response whose upstream failed mid-body: an SSE error event, or a cut connection. */
  private endBroken(
    res: ServerResponse,
    target: ProxyTarget,
    e: unknown,
    sse: boolean,
    scrubber: Scrubber,
  ): string {
    const failure = failureReason(e);
    this.logger.warn(`${target.provider.id} failed mid-response (${failure})`);
    if (sse && !res.destroyed) {
      const message = `${target.provider.name} stopped mid-stream (${failure}); the response is incomplete`;
      res.end(
        Buffer.concat([
          scrubber.flush(),
          openAiErrorEvent('upstream_unavailable', message, 'api_error'),
        ]),
      );
    } else {
      res.destroy();
    }
    return failure;
  }
}
