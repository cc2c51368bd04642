import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { CustomBaseUrlPolicy } from './custom-base-url';
import { upstreamUnavailable } from './upstream-error';
import { UpstreamClient, type UpstreamRequest } from './upstream.client';

const ERROR_BODY_LIMIT = 64 * 1024;

/** How an upstream WebSocket handshake ended: an open socket, or the provider's HTTP answer. */
export type SocketHandshake =
  | { socket: WebSocket; status: 101; early: EarlyMessages }
  | { socket?: undefined; status: number; headers: IncomingMessage['headers']; body: string };

/**
 * Messages that arrived between the handshake and the relay taking the socket over (a provider
 * greets at once: `session.created`), held so none is lost; `release()` stops holding them.
 */
export interface EarlyMessages {
  messages: { data: Buffer; isBinary: boolean }[];
  release(): void;
}

export interface UpstreamSocketRequest extends Omit<UpstreamRequest, 'method' | 'body'> {
  /** Subprotocols to offer (the client's, its credential taken out). */
  protocols: string[];
  /** Messages larger than this close the socket with 1009. */
  maxPayload: number;
}

/**
 * Upstream WebSocket handshakes (realtime APIs), through the same door as HTTP requests: the URL
 * confined to the provider's origin, the credential applied last (UpstreamClient.authorized), no
 * redirects followed, and for keys with their own base URL every address checked as it resolves.
 * Compression is off so that every message can be scrubbed as it passes; pings are not answered
 * here, since the relay passes them through to the client.
 */
@Injectable()
export class UpstreamSockets {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly client: UpstreamClient,
    private readonly customBaseUrls: CustomBaseUrlPolicy,
  ) {}

  async open(r: UpstreamSocketRequest): Promise<SocketHandshake> {
    const outbound = await this.client.authorized({ ...r, method: 'GET' });
    const url = new URL(outbound.url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (r.signal?.aborted) throw r.signal.reason;
    const socket = new WebSocket(url, r.protocols, {
      headers: outbound.headers,
      handshakeTimeout: this.config.upstream.connectTimeoutMs,
      followRedirects: false,
      perMessageDeflate: false,
      autoPong: false,
      maxPayload: r.maxPayload,
      ...(r.provider.keyBaseUrl ? { lookup: this.customBaseUrls.lookup } : {}),
    });
    return new Promise<SocketHandshake>((resolve, reject) => {
      const abort = () => socket.terminate();
      r.signal?.addEventListener('abort', abort, { once: true });
      const done = () => r.signal?.removeEventListener('abort', abort);
      socket.once('open', () => {
        done();
        const messages: EarlyMessages['messages'] = [];
        const hold = (data: Buffer, isBinary: boolean) => messages.push({ data, isBinary });
        socket.on('message', hold);
        socket.pause();
        resolve({
          socket,
          status: 101,
          early: { messages, release: () => socket.off('message', hold) },
        });
      });
      socket.once('unexpected-response', (req, res) => {
        done();
        readLimited(res).then(
          (body) => {
            req.destroy();
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body });
          },
          (e: unknown) => reject(this.unavailable(r, e)),
        );
      });
      socket.on('error', (e) => {
        done();
        reject(r.signal?.aborted ? (r.signal.reason as Error) : this.unavailable(r, e));
      });
    });
  }

  private unavailable(r: UpstreamSocketRequest, e: unknown): AppError {
    if (/handshake has timed out/.test((e as Error).message))
      return new AppError(
        'upstream_unavailable',
        `${r.provider.name} did not complete the WebSocket handshake in time; try again later`,
        { status: 504 },
      );
    return upstreamUnavailable(
      e,
      (reason) => `${r.provider.name} could not be reached (${reason}); try again later`,
    );
  }
}

async function readLimited(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (size < ERROR_BODY_LIMIT) parts.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(parts).subarray(0, ERROR_BODY_LIMIT).toString('utf8');
}
