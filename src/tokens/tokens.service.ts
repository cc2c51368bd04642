import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service';
import type { Caller } from '../auth/caller';
import { decodeCursor, toPage } from '../common/cursor';
import { AppError } from '../common/errors/app-error';
import type { ResilientCache } from '../common/resilient-cache';
import { DatabaseBreaker } from '../database/database-breaker';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DatabaseUnavailableError } from '../common/errors/database-unavailable';
import { AccessTokenEntity } from '../database/entities/access-token.entity';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import { InvalidationBus } from '../redis/invalidation-bus';
import { generateAccessToken, hashAccessToken, looksLikeAccessToken } from './access-token';
import type { CreateTokenDto } from './dto/create-token.dto';
import type {
  AdminTokenDto,
  AdminTokenListDto,
  CreatedTokenDto,
  TokenDto,
  TokenListDto,
  TokenQueryDto,
} from './dto/token.dto';
import { OrgSightings } from './org-sightings';
import { TokenRepository } from './token.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_MS = 86_400_000;

/** Enough for every live token of a busy replica; beyond it the oldest entries are refetched. */
const CACHE_ENTRIES = 10_000;

/** A token as validated: its Caller, and until when that answer holds. */
interface Validated {
  caller: Caller;
  until: number;
}

/** Who revokes: the owner, an org admin (tokens made in their organisation) or an admin (any). */
type Revoker = 'owner' | 'org' | 'admin';

/**
 * Proxy access tokens: issue (shown once, stored hashed), list, revoke, and validate for the
 * Authenticator. A token lives at most TOKEN_MAX_TTL_DAYS, and reaches its organisation's keys
 * only while its owner is still seen in that organisation (OrgSightings).
 */
@Injectable()
export class TokensService {
  private readonly logger = new Logger(TokensService.name);
  /**
   * Tokens by hash (null: unknown), so the proxy's hot path does no database round trip, and
   * known tokens keep working while the database is away (up to KEY_STALE_MAX_MS).
   */
  private readonly cache: ResilientCache<Validated | null>;

  constructor(
    private readonly tokens: TokenRepository,
    private readonly registry: ProviderRegistryService,
    private readonly sightings: OrgSightings,
    private readonly audit: AuditService,
    private readonly bus: InvalidationBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    breaker: DatabaseBreaker,
  ) {
    this.cache = breaker.cache(CACHE_ENTRIES);
    const ownedBy = (sub: string) => (v: Validated | null) => v?.caller.sub === sub;
    this.bus.on('token', (hash) => this.cache.delete(hash));
    this.bus.on('token-owner', (sub) => this.cache.deleteWhere(ownedBy(sub)));
    // The owner left or switched organisation: their tokens' org reach is decided again.
    this.sightings.onChange((sub) => {
      this.cache.deleteWhere(ownedBy(sub));
      this.bus.publish('token-owner', sub);
    });
  }

  async create(caller: Caller, dto: CreateTokenDto): Promise<CreatedTokenDto> {
    // The guard already keeps tokens off /api writes; a token minting tokens would outlive revocation.
    if (caller.kind !== 'jwt') {
      throw new AppError('forbidden', 'Access tokens cannot create access tokens: use a JWT');
    }
    const now = Date.now();
    const latest = now + this.config.tokens.maxTtlDays * DAY_MS;
    const expiresAt = dto.expiresAt === undefined ? new Date(latest) : new Date(dto.expiresAt);
    if (!(expiresAt.getTime() > now))
      throw new AppError('validation_failed', 'expiresAt must be a date-time in the future', {
        details: { field: 'expiresAt' },
      });
    if (expiresAt.getTime() > latest)
      throw new AppError(
        'validation_failed',
        `expiresAt must be at most ${this.config.tokens.maxTtlDays} days from now (TOKEN_MAX_TTL_DAYS); omit it for the longest allowed`,
        { details: { field: 'expiresAt' } },
      );
    const raw = generateAccessToken();
    const entity = Object.assign(new AccessTokenEntity(), {
      id: randomUUID(),
      ownerSub: caller.sub,
      orgId: caller.orgId ?? null,
      name: dto.name,
      tokenHash: hashAccessToken(raw),
      providers: this.checkProviders(dto.providers),
      expiresAt,
      createdAt: new Date(now),
      lastUsedAt: null,
    });
    // The JWT that makes the token is a sighting: written first, so the token works at once.
    await this.sightings.record(caller.sub, caller.orgId ?? null);
    await this.tokens.insert(entity);
    this.audit.record({
      action: 'token.create',
      actor: caller,
      targetType: 'token',
      targetId: entity.id,
      detail: {
        name: entity.name,
        providers: entity.providers,
        expiresAt: expiresAt.toISOString(),
        orgId: entity.orgId,
      },
    });
    return { ...toDto(entity), token: raw };
  }

  async list(caller: Caller): Promise<TokenListDto> {
    const rows = await this.tokens.listByOwner(caller.sub);
    return { data: rows.map(toDto) };
  }

  /** Any user's tokens (admins), or those made in the caller's organisation (org admins). */
  async listAll(q: TokenQueryDto, orgId?: string): Promise<AdminTokenListDto> {
    const limit = q.limit ?? 50;
    const rows = await this.tokens.list({
      ownerSub: q.sub,
      orgId,
      after: decodeCursor(q.cursor, 'uuid'),
      limit: limit + 1,
    });
    return toPage(rows, limit, toAdminDto, (t) => ({ at: t.createdAt, id: t.id }));
  }

  /**
   * Deletes a token the revoker may reach: its own (owner), one made in its organisation (org
   * admin) or any (admin). Anything else is as unknown as a made-up id (404).
   */
  async revoke(caller: Caller, id: string, as: Revoker = 'owner'): Promise<void> {
    const row = UUID.test(id) ? await this.tokens.findById(id) : null;
    const reachable =
      row &&
      (as === 'admin' ||
        (as === 'org' && !!caller.orgId && row.orgId === caller.orgId) ||
        (as === 'owner' && row.ownerSub === caller.sub));
    if (!row || !reachable) throw new AppError('not_found', `No access token with id ${id}`);
    await this.tokens.delete(row.id);
    // Seen at once on this replica; other replicas drop their copy at once with REDIS_URL, else
    // within KEY_CACHE_TTL_MS.
    this.evict(row.tokenHash);
    this.audit.record({
      action: 'token.revoke',
      actor: caller,
      targetType: 'token',
      targetId: row.id,
      detail: { name: row.name, ownerSub: row.ownerSub, revokedAs: as },
    });
  }

  /**
   * The Caller for a raw `byok_` token, or undefined when it is unknown, revoked or expired.
   * Cached for KEY_CACHE_TTL_MS, never past its expiry or the end of its org reach.
   */
  async validate(raw: string): Promise<Caller | undefined> {
    if (!looksLikeAccessToken(raw)) return undefined;
    const hash = hashAccessToken(raw);
    let found = await this.lookup(hash);
    if (found && found.until <= Date.now()) {
      this.cache.delete(hash); // expired, or its org reach ended: decide again
      found = await this.lookup(hash);
    }
    return found && found.until > Date.now() ? found.caller : undefined;
  }

  private lookup(hash: string): Promise<Validated | null> {
    return this.cache
      .get(hash, () => this.load(hash))
      .catch((e: unknown) => {
        throw new DatabaseUnavailableError(
          `Checking an access token failed: ${(e as Error).message}`,
        );
      });
  }

  private async load(hash: string): Promise<Validated | null> {
    const row = await this.tokens.findByHash(hash);
    const now = Date.now();
    if (!row) return null;
    const expires = Math.min(
      row.expiresAt?.getTime() ?? Infinity,
      row.createdAt.getTime() + this.config.tokens.maxTtlDays * DAY_MS,
    );
    if (expires <= now) return null;
    const org = await this.sightings.reachableOrg(row.ownerSub, row.orgId);
    const caller: Caller = Object.freeze({
      kind: 'token',
      sub: row.ownerSub,
      orgId: org.orgId,
      orgAdmin: false,
      admin: false,
      tokenId: row.id,
      providers: row.providers ? (Object.freeze([...row.providers]) as string[]) : undefined,
    });
    // Only on a load, so at most one write per token per TTL; never on the request's path.
    this.tokens.touch(row.id, new Date(now)).catch((err: unknown) => {
      this.logger.warn(`Could not record last use of token ${row.id}: ${String(err)}`);
    });
    return { caller, until: Math.min(expires, org.until) };
  }

  /** Drops a cached token by hash (revocation here, or a notice from another replica). */
  evict(tokenHash: string): void {
    this.cache.delete(tokenHash);
    this.bus.publish('token', tokenHash);
  }

  private checkProviders(providers: string[] | null | undefined): string[] | null {
    if (providers === undefined) return null;
    // class-validator lets null through @IsOptional; a token for no provider is a mistake.
    if (providers === null)
      throw new AppError(
        'validation_failed',
        'providers must be a list of provider ids, or omitted for every provider (not null)',
        { details: { field: 'providers' } },
      );
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
    orgId: row.orgId,
    providers: row.providers,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

const toAdminDto = (row: AccessTokenEntity): AdminTokenDto => ({
  ...toDto(row),
  ownerSub: row.ownerSub,
});
