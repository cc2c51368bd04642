import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { AppError } from '../common/errors/app-error';
import { toAppError } from '../common/errors/to-app-error';
import { openAiErrorBody } from '../common/filters/http-error.filter';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Exchange } from '../proxy/exchange';
import { createScrubber, secretsOf } from '../proxy/key-scrubber';
import { RealtimeSession, type SessionStats } from './realtime-session';
import { type Accepted, newExchange, RealtimeService } from './realtime.service';
import { acceptedProtocol } from './subprotocols';

/** A handshake key is 16 random bytes in base64 (RFC 6455 §4.1). */
const HANDSHAKE_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** What a session's access line says besides its stats. */
interface SessionLine {
  status: number;
  stats?: SessionStats;
}

/**
 * WebSocket upgrades on `/v1/*` and `/proxy/*`, taken from the HTTP server's `upgrade` event
 * (frontServer). Every refusal is an HTTP answer in the OpenAI envelope before any upgrade; an
 * accepted session is relayed by RealtimeSession and gets one access line when it ends. On
 * shutdown, open sessions may run until shortly before SHUTDOWN_TIMEOUT_MS, then close with 1001.
 */
@Injectable()
export class RealtimeEndpoints implements OnModuleDestroy {
  private readonly logger = new Logger('Realtime');
  private readonly accepted = new WeakMap<IncomingMessage, string | false>();
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<RealtimeSession>();
  private closing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly realtime: RealtimeService,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      autoPong: false,
      maxPayload: config.realtime.maxBufferedBytes,
      handleProtocols: (_offered, req) => this.accepted.get(req) ?? false,
    });
  }

  /** Handles every upgrade request the server receives. */
  take(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ex = newExchange(req);
    socket.on('error', () => undefined); // a client that resets mid-handshake is just gone
    const abort = new AbortController();
    socket.once('close', () => abort.abort());
    this.open(req, socket, head, ex, abort.signal).catch((e: unknown) => {
      if (abort.signal.aborted) return;
      const err = toAppError(e);
      if (err.status >= 500 && err.code !== 'upstream_unavailable')
        this.logger.error({ reqId: ex.requestId, err: { message: (e as Error).message } });
      this.realtime.refused(ex, err.status, err);
      this.answer(socket, ex, err.status, openAiErrorBody(err), 'application/json', err.headers);
      this.log(req, ex, { status: err.status });
    });
  }

  private async open(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ex: Exchange,
    signal: AbortSignal,
  ): Promise<void> {
    const path = (req.url ?? '').split('?', 1)[0];
    if (!path.startsWith('/v1/') && !path.startsWith('/proxy/'))
      throw new AppError('not_found', `No WebSocket endpoint at ${path}: use /v1/realtime`);
    if (String(req.headers.upgrade).toLowerCase() !== 'websocket')
      throw new AppError(
        'validation_failed',
        `Only WebSocket upgrades are taken (got Upgrade: ${String(req.headers.upgrade)}); send HTTP/1.1 requests without Upgrade`,
      );
    // Checked before a provider is dialled: ws would refuse a bad handshake only afterwards.
    const key = req.headers['sec-websocket-key'];
    if (
      req.method !== 'GET' ||
      !key ||
      !HANDSHAKE_KEY.test(key) ||
      req.headers['sec-websocket-version'] !== '13'
    )
      throw new AppError(
        'validation_failed',
        'Not a valid WebSocket handshake: send GET with Sec-WebSocket-Key and Sec-WebSocket-Version: 13',
      );
    if (this.closing)
      throw new AppError('upstream_unavailable', 'This replica is shutting down: reconnect', {
        status: 503,
      });
    const result = await this.realtime.connect(req, ex, signal);
    if (!('upstream' in result)) {
      this.realtime.refused(ex, result.status);
      this.answer(socket, ex, result.status, result.body, result.contentType);
      return this.log(req, ex, { status: result.status });
    }
    if (signal.aborted) return result.upstream.socket.close(1001, 'client went away');
    this.accepted.set(req, acceptedProtocol(result.offered, result.upstream.socket.protocol));
    this.wss.handleUpgrade(req, socket, head, (client) => this.relay(req, result, client));
  }

  private relay(req: IncomingMessage, a: Accepted, client: WebSocket): void {
    const { ex, upstream, tried } = a;
    let last = performance.now();
    const session = new RealtimeSession(
      client,
      upstream.socket,
      this.config.realtime,
      createScrubber(secretsOf(tried)),
      (r) => {
        const since = last;
        last = performance.now();
        this.realtime.responded(ex, r, since).catch((e: unknown) => {
          this.logger.warn(`Recording realtime usage failed: ${(e as Error).message}`);
        });
      },
    );
    this.sessions.add(session);
    session.start(upstream.early);
    void session.ended.then((stats) => {
      this.sessions.delete(session);
      this.log(req, ex, { status: 101, stats });
    });
  }

  /** Open sessions run on until shortly before the shutdown deadline, then close with 1001. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    if (!this.sessions.size) return;
    const grace = Math.min(2000, this.config.shutdownTimeoutMs / 4);
    const all = () => Promise.all([...this.sessions].map((s) => s.ended));
    if (!(await within(all(), this.config.shutdownTimeoutMs - grace))) {
      this.logger.warn(`Closing ${this.sessions.size} realtime session(s) for shutdown`);
      for (const s of this.sessions) s.end('shutdown', 1001, 'server shutting down');
      await within(all(), grace / 2);
    }
  }

  /** A plain HTTP answer on the upgrade socket, then the connection is closed. */
  private answer(
    socket: Duplex,
    ex: Exchange,
    status: number,
    body: string,
    contentType = 'application/json',
    extra: Record<string, string> = {},
  ): void {
    if (socket.destroyed) return;
    const headers: Record<string, string> = {
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(body)),
      'x-request-id': ex.requestId,
      connection: 'close',
      ...extra,
    };
    if (ex.target) headers['x-byok-provider'] = ex.target.provider.id;
    if (ex.candidate) headers['x-byok-key-source'] = ex.candidate.source;
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('')}\r\n${body}`);
  }

  /** The session's access line: allow-listed fields, like the HTTP one (never headers or keys). */
  private log(req: IncomingMessage, ex: Exchange, line: SessionLine): void {
    const s = line.stats;
    this.logger.log({
      msg: 'realtime session',
      reqId: ex.requestId,
      method: req.method,
      path: (req.url ?? '').split('?', 1)[0],
      status: line.status,
      ms: Math.round(performance.now() - ex.started),
      caller: ex.caller?.sub,
      provider: ex.target?.provider.id,
      model: ex.target?.model,
      keySource: ex.candidate?.source,
      keyHint: ex.candidate?.hint,
      ...(s && {
        framesIn: s.framesIn,
        bytesIn: s.bytesIn,
        framesOut: s.framesOut,
        bytesOut: s.bytesOut,
        endedBy: s.endedBy,
        clientCloseCode: s.clientCode,
        upstreamCloseCode: s.upstreamCode,
      }),
    });
  }
}

/** Whether `p` settled within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, ms))));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
