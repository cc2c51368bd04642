import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import type { Caller } from '../auth/caller';
import { InvalidationBus } from '../redis/invalidation-bus';
import { BoundedTtlCache } from '../common/ttl-cache';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AccessTokenEntity } from '../database/entities/access-token.entity';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import { generateAccessToken, hashAccessToken, looksLikeAccessToken } from './access-token';
import type { CreateTokenDto } from './dto/create-token.dto';
import type { CreatedTokenDto, TokenDto, TokenListDto } from './dto/token.dto';
import { TokenRepository } from './token.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Enough for every live token of a busy replica; beyond it the oldest entries are refetched. */
const CACHE_ENTRIES = 10_000;

/** Proxy access tokens: issue (shown once, stored hashed), list, revoke, and validate for the guard. */
@Injectable()
export class TokensService {
  private readonly logger = new Logger(TokensService.name);
  /** Validated tokens by hash, so the proxy's hot path does no database round trip. */
  private readonly cache: BoundedTtlCache<string, Caller>;

  constructor(
    private readonly tokens: TokenRepository,
    private readonly registry: ProviderRegistryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Optional only so that unit tests can build the service without an audit log.
    @Optional() private readonly audit?: AuditService,
    @Optional() private readonly bus?: InvalidationBus,
  ) {
    this.cache = new BoundedTtlCache(CACHE_ENTRIES);
    this.bus?.on('token', (hash) => this.cache.delete(hash));
  }

  async create(caller: Caller, dto: CreateTokenDto): Promise<CreatedTokenDto> {
    // The guard already keeps tokens off /api writes; a token minting tokens would outlive revocation.
    if (caller.kind !== 'jwt') {
      throw new AppError('forbidden', 'Access tokens cannot create access tokens: use a JWT');
    }
    const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
    if (expiresAt && !(expiresAt.getTime() > Date.now())) {
      throw new AppError('validation_failed', 'expiresAt must be a date-time in the future');
    }
    const raw = generateAccessToken();
    const entity = Object.assign(new AccessTokenEntity(), {
      id: randomUUID(),
      ownerSub: caller.sub,
      orgId: caller.orgId ?? null,
      name: dto.name,
      tokenHash: hashAccessToken(raw),
      providers: this.checkProviders(dto.providers),
      expiresAt,
      createdAt: new Date(),
      lastUsedAt: null,
    });
    await this.tokens.insert(entity);
    this.audit?.record({
      action: 'token.create',
      actor: caller,
      targetType: 'token',
      targetId: entity.id,
      detail: { name: entity.name, providers: entity.providers, expiresAt: dto.expiresAt ?? null },
    });
    return { ...toDto(entity), token: raw };
  }

  async list(caller: Caller): Promise<TokenListDto> {
    const rows = await this.tokens.listByOwner(caller.sub);
    return { data: rows.map(toDto) };
  }

  /** Deletes the caller's token; another owner's id is as unknown as a made-up one (404). */
  async revoke(caller: Caller, id: string): Promise<void> {
    const row = UUID.test(id) ? await this.tokens.findOwned(id, caller.sub) : null;
    if (!row) throw new AppError('not_found', `No access token with id ${id}`);
    await this.tokens.delete(row.id);
    // Seen at once on this replica; other replicas drop their copy within KEY_CACHE_TTL_MS.
    this.evict(row.tokenHash);
    this.audit?.record({
      action: 'token.revoke',
      actor: caller,
      targetType: 'token',
      targetId: row.id,
      detail: { name: row.name },
    });
  }

  /**
   * The Caller for a raw `byok_` token, or undefined when it is unknown, revoked or expired.
   * Cached until min(now + KEY_CACHE_TTL_MS, token expiry).
   */
  async validate(raw: string): Promise<Caller | undefined> {
    if (!looksLikeAccessToken(raw)) return undefined;
    const hash = hashAccessToken(raw);
    const cached = this.cache.get(hash);
    if (cached) return cached;

    const row = await this.tokens.findByHash(hash);
    const now = Date.now();
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= now)) return undefined;
    const caller: Caller = Object.freeze({
      kind: 'token',
      sub: row.ownerSub,
      orgId: row.orgId ?? undefined,
      orgAdmin: false,
      admin: false,
      tokenId: row.id,
      providers: row.providers ? (Object.freeze([...row.providers]) as string[]) : undefined,
    });
    this.cache.set(
      hash,
      caller,
      Math.min(now + this.config.keyCacheTtlMs, row.expiresAt?.getTime() ?? Infinity),
    );
    // Only on a cache miss, so at most one write per token per TTL; never on the request's path.
    this.tokens.touch(row.id, new Date(now)).catch((err: unknown) => {
      this.logger.warn(`Could not record last use of token ${row.id}: ${String(err)}`);
    });
    return caller;
  }

  /** Drops a cached token by hash (revocation here, or a notice from another replica). */
  evict(tokenHash: string): void {
    this.cache.delete(tokenHash);
    this.bus?.publish('token', tokenHash);
  }

  private checkProviders(providers: string[] | undefined): string[] | null {
    if (providers === undefined) return null;
    const unique = [...new Set(providers)];
    const unknown = unique.filter((id) => this.registry.get(id) === undefined);
    if (unknown.length > 0) {
      const known = this.registry.ids();
      throw new AppError(
        'provider_unknown',
        `Unknown provider ${unknown.map((id) => `"${id}"`).join(', ')} in providers: known providers are ${known.join(', ')}`,
        { details: { knownProviders: known } },
      );
    }
    return unique;
  }
}

function toDto(row: AccessTokenEntity): TokenDto {
  return {
    id: row.id,
    name: row.name,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    providers: row.providers,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
