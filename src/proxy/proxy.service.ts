import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Authenticator } from '../auth/authenticator';
import { AppError } from '../common/errors/app-error';
import { toAppError } from '../common/errors/to-app-error';
import { openAiErrorBody } from '../common/filters/http-error.filter';
import { requestId } from '../common/http/request-id';
import { type AccessDetails, accessDetails } from '../common/logging';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { KeyHealth } from '../keys/key-health';
import { type KeyCandidate, KeyResolver, readSecret } from '../keys/key-resolver';
import { type Exceeded, LimitsService, rateLimited } from '../limits/limits.service';
import type { ProviderRecord } from '../providers/provider.schema';
import { buildUpstreamHeaders } from '../upstream/upstream-headers';
import { UpstreamClient, type UpstreamResponse } from '../upstream/upstream.client';
import { UsageRecorder } from '../usage/usage.recorder';
import { type Exchange, type ExchangeOutcome, usageEventOf } from './exchange';
import { scrubText, secretsOf, type TriedKey } from './key-scrubber';
import { Admission } from './admission';
import { checkScope, keyMissing, keyRejected } from './refusals';
import { ModelsLister } from './models-lister';
import { readProxyBody } from './proxy-body';
import type { ProxyRequest, ProxyTarget } from './proxy-target';
import { ResponseRelay } from './response-relay';
import { TargetFinder } from './target-finder';
import { MetricsService } from '../metrics/metrics.service';
import type { ProxyTrace } from '../tracing/proxy-trace';

const REJECTED = new Set([401, 403]);
const FAILOVER = new Set([401, 403, 429]);
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * One proxied request: authenticate, find the target, resolve candidate keys, forward with the
 * first key and fail over on 401/403/429 while nothing has reached the client, relay the answer,
 * and emit one usage event however it ended. The reply is hijacked, so headers and errors here
 * are written by hand, in the OpenAI shape.
 */
@Injectable()
export class ProxyService {
  private readonly logger = new Logger('Proxy');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: Authenticator,
    private readonly targets: TargetFinder,
    private readonly resolver: KeyResolver,
    private readonly upstream: UpstreamClient,
    private readonly relay: ResponseRelay,
    private readonly models: ModelsLister,
    private readonly limits: LimitsService,
    private readonly usage: UsageRecorder,
    private readonly health: KeyHealth,
    private readonly admission: Admission,
    private readonly metrics: MetricsService,
  ) {}

  /** `refused`: what the router would have answered instead (a malformed or over-long path). */
  async handle(
    raw: IncomingMessage,
    res: ServerResponse,
    refused?: AppError,
    trace?: ProxyTrace,
  ): Promise<void> {
    const id = requestId(raw);
    const ex: Exchange = {
      requestId: id,
      started: performance.now(),
      caller: undefined,
      target: undefined,
      candidate: undefined,
      reservations: [],
      trace,
    };
    const access = accessDetails(res);
    let outcome: ExchangeOutcome | undefined;
    try {
      if (refused) throw refused;
      const body = await readProxyBody(raw, res, this.config.upstream.bodyLimit);
      access.bytesIn = body?.length ?? 0;
      const req: ProxyRequest = { method: raw.method!, url: raw.url!, headers: raw.headers, body };
      const caller = await this.auth.authenticate(req.headers, {
        ip: raw.socket.remoteAddress,
        id,
        url: req.url,
      });
      ex.caller = caller;
      access.caller = caller.sub;
      const target = this.targets.find(req);
      ex.target = target;
      access.provider = target.provider.id;
      access.model = target.model;
      checkScope(caller, target.provider);
      if (target.listModels) {
        await this.limits.admitUser(caller.sub);
        return await this.models.list(caller, req, res, ex);
      }
      await this.admission.admitCaller(ex, caller, target);
      const candidates = await this.resolver.resolve(caller, target.provider.id);
      if (!candidates.length) throw keyMissing(target.provider);
      outcome = await this.forward(req, res, ex, target, candidates, access);
    } catch (e) {
      outcome = this.fail(res, ex, e, access);
    } finally {
      trace?.end(ex, outcome, res);
    }
    const event = outcome && usageEventOf(ex, outcome);
    if (event) this.usage.record(event);
  }

  private async forward(
    req: ProxyRequest,
    res: ServerResponse,
    ex: Exchange,
    target: ProxyTarget,
    candidates: KeyCandidate[],
    access: AccessDetails,
  ): Promise<ExchangeOutcome> {
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableEnded) abort.abort();
    });
    const headers = buildUpstreamHeaders(req.headers, target.provider);
    const tried: TriedKey[] = [];
    let limited: Exceeded | undefined;
    for (const [i, candidate] of candidates.entries()) {
      const over = await this.admission.admitKey(ex, candidate, target);
      if (over) {
        limited = over; // a key over its own limit is skipped
        continue;
      }
      // Fetched (and decrypted) only now: keys that are never tried are never read.
      const secret = await readSecret(candidate);
      if (!secret) {
        this.logger.warn(`Key ${candidate.keyId} has no secret in the store; skipped`);
        continue;
      }
      ex.candidate = candidate;
      access.keySource = candidate.source;
      access.keyHint = candidate.hint;
      tried.push({ secret, hint: candidate.hint });
      ex.trace?.attempt(ex, headers);
      const up = await this.upstream.send({
        provider: target.provider,
        key: secret,
        params: candidate.params,
        url: target.url,
        method: target.method,
        headers,
        body: target.body,
        signal: abort.signal,
      });
      const status = up.statusCode;
      // Maybe the key, maybe an endpoint it may not use: the provider's verify request decides.
      if (REJECTED.has(status)) this.health.suspect(candidate, status);
      const last = i === candidates.length - 1 || tried.length >= this.config.upstream.maxAttempts;
      if (FAILOVER.has(status) && !last) {
        this.logger.warn(
          `${target.provider.id} answered ${status} for ${candidate.source} key ${candidate.hint}; trying the next key`,
        );
        this.metrics.failover(target.provider.id, status);
        ex.trace?.failover(status);
        await up.body.dump();
        continue;
      }
      // A 401 says the credential was refused: name the stored key and how to fix it. Any other
      // answer, a 403 included (often an endpoint the key may not use), goes to the client as is.
      if (status === 401) throw await this.rejected(up, target.provider, candidate, tried);
      return this.relay.relay(res, up, ex, tried, abort, access);
    }
    if (limited) throw rateLimited(limited);
    throw keyMissing(target.provider);
  }

  private async rejected(
    up: UpstreamResponse,
    provider: ProviderRecord,
    candidate: KeyCandidate,
    tried: TriedKey[],
  ): Promise<AppError> {
    const said = scrubText(await readLimited(up, ERROR_BODY_LIMIT), secretsOf(tried));
    return keyRejected(provider, candidate, up.statusCode, said);
  }

  /** Answers a failed exchange in the OpenAI shape, unless the client is gone or already answered. */
  private fail(
    res: ServerResponse,
    ex: Exchange,
    e: unknown,
    access: AccessDetails,
  ): ExchangeOutcome | undefined {
    if (ex.target && e instanceof Error && e.name === 'AbortError') return undefined;
    const err = toAppError(e);
    if (err.status >= 500 && err.code !== 'upstream_unavailable')
      this.logger.error({
        reqId: ex.requestId,
        err: { type: (e as Error).name, message: (e as Error).message },
      });
    const outcome = { status: err.status, errorType: err.code };
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return outcome;
    }
    const body = openAiErrorBody(err);
    access.bytesOut = Buffer.byteLength(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(access.bytesOut),
      'x-request-id': ex.requestId,
      ...err.headers,
    };
    if (ex.target) headers['x-byok-provider'] = ex.target.provider.id;
    if (ex.candidate) headers['x-byok-key-source'] = ex.candidate.source;
    res.writeHead(err.status, headers);
    res.end(body);
    return outcome;
  }
}

async function readLimited(up: UpstreamResponse, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of up.body as AsyncIterable<Buffer>) {
    if (size < limit) parts.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}
