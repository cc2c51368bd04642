import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { Authenticator } from '../auth/authenticator';
import type { AppError } from '../common/errors/app-error';
import { requestId } from '../common/http/request-id';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { KeyHealth } from '../keys/key-health';
import { KeyResolver, readSecret } from '../keys/key-resolver';
import { type Exceeded, LimitsService, rateLimited } from '../limits/limits.service';
import { MetricsService } from '../metrics/metrics.service';
import { Admission } from '../proxy/admission';
import { type Exchange, usageEventOf } from '../proxy/exchange';
import { scrubText, secretsOf, type TriedKey } from '../proxy/key-scrubber';
import { checkScope, keyMissing, keyRejected } from '../proxy/refusals';
import { buildUpstreamHeaders } from '../upstream/upstream-headers';
import { type SocketHandshake, UpstreamSockets } from '../upstream/upstream-sockets';
import { UsageRecorder } from '../usage/usage.recorder';
import { RealtimeTargets } from './realtime-target';
import type { RealtimeResponse } from './realtime-usage';
import { type OfferedProtocols, readProtocols } from './subprotocols';

const REJECTED = new Set([401, 403]);
const FAILOVER = new Set([401, 403, 429]);

/** A session the provider accepted, ready for the client's upgrade. */
export interface Accepted {
  ex: Exchange;
  upstream: Extract<SocketHandshake, { status: 101 }>;
  tried: TriedKey[];
  offered: OfferedProtocols;
}

/** The provider's own refusal of the handshake (not a failover case): passed on, scrubbed. */
export interface ProviderRefusal {
  ex: Exchange;
  status: number;
  contentType?: string;
  body: string;
}

/**
 * Opens a realtime session for an upgrade request, by the same rules as an HTTP request: the
 * caller from `Authorization`, `x-api-key` or the `openai-insecure-api-key.<token>` subprotocol;
 * scope and limits checked; keys tried in resolution order, failing over on 401/403/429 while
 * the upstream handshake has not succeeded; the caller's credential never forwarded. Each
 * `response.done` the provider reports afterwards is one usage event (operation `realtime`).
 */
@Injectable()
export class RealtimeService {
  private readonly logger = new Logger('Realtime');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: Authenticator,
    private readonly targets: RealtimeTargets,
    private readonly resolver: KeyResolver,
    private readonly sockets: UpstreamSockets,
    private readonly limits: LimitsService,
    private readonly usage: UsageRecorder,
    private readonly health: KeyHealth,
    private readonly admission: Admission,
    private readonly metrics: MetricsService,
  ) {}

  /** Throws AppError for a refusal of ours (ex filled as far as it got, for the usage event). */
  async connect(
    req: IncomingMessage,
    ex: Exchange,
    signal: AbortSignal,
  ): Promise<Accepted | ProviderRefusal> {
    const offered = readProtocols(req.headers['sec-websocket-protocol']);
    const headers = { ...req.headers };
    delete headers['sec-websocket-protocol'];
    // A browser's credential rides in a subprotocol; a header, when there is one, wins.
    if (offered.credential && !headers.authorization && !headers['x-api-key'])
      headers.authorization = `Bearer ${offered.credential}`;
    const caller = await this.auth.authenticate(headers, {
      ip: req.socket.remoteAddress,
      id: ex.requestId,
      url: req.url!,
    });
    ex.caller = caller;
    const target = this.targets.find(req.url!, headers);
    ex.target = target;
    checkScope(caller, target.provider);
    await this.admission.admitCaller(ex, caller, target);
    const candidates = await this.resolver.resolve(caller, target.provider.id);
    if (!candidates.length) throw keyMissing(target.provider);

    const upstreamHeaders = buildUpstreamHeaders(withoutHandshake(headers), target.provider);
    for (const [name, value] of Object.entries(target.provider.realtime?.headers ?? {}))
      upstreamHeaders[name] ??= value;
    const tried: TriedKey[] = [];
    let limited: Exceeded | undefined;
    for (const [i, candidate] of candidates.entries()) {
      const over = await this.admission.admitKey(ex, candidate, target);
      if (over) {
        limited = over;
        continue;
      }
      const secret = await readSecret(candidate);
      if (!secret) continue;
      ex.candidate = candidate;
      tried.push({ secret, hint: candidate.hint });
      const up = await this.sockets.open({
        provider: target.provider,
        key: secret,
        params: candidate.params,
        url: target.url,
        headers: upstreamHeaders,
        protocols: offered.forward,
        maxPayload: this.config.realtime.maxBufferedBytes,
        signal,
      });
      if (up.socket) return { ex, upstream: up, tried, offered };
      if (REJECTED.has(up.status)) this.health.suspect(candidate, up.status);
      const last = i === candidates.length - 1 || tried.length >= this.config.upstream.maxAttempts;
      if (FAILOVER.has(up.status) && !last) {
        this.logger.warn(
          `${target.provider.id} refused the realtime handshake with ${up.status} for ${candidate.source} key ${candidate.hint}; trying the next key`,
        );
        this.metrics.failover(target.provider.id, up.status);
        continue;
      }
      const said = scrubText(up.body, secretsOf(tried));
      if (up.status === 401) throw keyRejected(target.provider, candidate, up.status, said);
      const type = up.headers['content-type'];
      return { ex, status: up.status, contentType: type, body: said };
    }
    if (limited) throw rateLimited(limited);
    throw keyMissing(target.provider);
  }

  /** One usage event per finished response, charged to the caller's and the key's windows. */
  async responded(ex: Exchange, r: RealtimeResponse, since: number): Promise<void> {
    const charges = await this.limits.charges(ex.caller!.sub, ex.candidate);
    const event = usageEventOf(
      { ...ex, started: since, reservations: charges.map((reservation) => ({ reservation })) },
      { status: 200, usage: r, errorType: r.status === 'failed' ? 'response_failed' : undefined },
    );
    if (event) this.usage.record(event);
  }

  /** The usage event of a session refused before it opened (nothing when nobody was identified). */
  refused(ex: Exchange, status: number, err?: AppError): void {
    const event = usageEventOf(ex, { status, errorType: err?.code ?? String(status) });
    if (event) this.usage.record(event);
  }
}

/** The client's handshake headers are its own; ws writes the upstream handshake's. */
function withoutHandshake(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const out: IncomingMessage['headers'] = {};
  for (const [name, value] of Object.entries(headers))
    if (!name.startsWith('sec-websocket-')) out[name] = value;
  return out;
}

export const newExchange = (req: IncomingMessage): Exchange => ({
  requestId: requestId(req),
  started: performance.now(),
  reservations: [],
});
