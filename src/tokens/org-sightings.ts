import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Caller } from '../auth/caller';
import { BoundedTtlCache } from '../common/ttl-cache';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { OrgSightingRepository } from './org-sighting.repository';

const DAY_MS = 86_400_000;
/** An unchanged sighting is written again at most this often: enough for a bound in days. */
const REWRITE_MS = 3_600_000;
const CACHE_ENTRIES = 10_000;

interface Sighting {
  orgId: string | null;
  at: number;
}

/**
 * Which organisation each user's JWTs carry, as last seen. Access tokens do not carry a JWT, so
 * a token made while its owner was in an organisation reaches that organisation's keys only
 * while the owner's latest JWT still names it and was seen within TOKEN_ORG_SEEN_DAYS: a member
 * who leaves (or switches organisation) takes the org keys away from their tokens the next time
 * they sign in anywhere, and within that many days if they never do.
 *
 * `seen()` runs on every JWT request and costs a Map lookup unless the organisation changed or
 * the last write is an hour old; a change calls `onChange` so token caches drop what they hold.
 */
@Injectable()
export class OrgSightings {
  private readonly logger = new Logger(OrgSightings.name);
  private readonly written = new BoundedTtlCache<string, Sighting>(CACHE_ENTRIES);
  private readonly listeners: ((sub: string) => void)[] = [];

  constructor(
    private readonly repo: OrgSightingRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Runs `listener` (on this replica) when a user is seen in another organisation or none. */
  onChange(listener: (sub: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Records the organisation of a verified JWT. A change this replica already knows of is
   * written before the request goes on (returns a promise), so a token used right after its
   * owner left the organisation no longer reaches its keys; anything else is written off the
   * request path.
   */
  seen(caller: Caller): Promise<void> | undefined {
    if (caller.kind !== 'jwt') return undefined;
    const orgId = caller.orgId ?? null;
    const now = Date.now();
    const last = this.written.get(caller.sub);
    if (last && last.orgId === orgId && now - last.at < REWRITE_MS) return undefined;
    const write = this.record(caller.sub, orgId, now).catch((e: unknown) => {
      this.written.delete(caller.sub);
      this.logger.warn(`Could not record the organisation of ${caller.sub}: ${String(e)}`);
    });
    return last && last.orgId !== orgId ? write : undefined;
  }

  /** Writes a sighting now (token creation waits for it, so the new token works at once). */
  async record(sub: string, orgId: string | null, now = Date.now()): Promise<void> {
    this.written.set(sub, { orgId, at: now }, now + REWRITE_MS);
    const before = await this.repo.findBySub(sub);
    await this.repo.save(sub, orgId, new Date(now));
    if (before && before.orgId !== orgId) for (const l of this.listeners) l(sub);
  }

  /**
   * The organisation a token made in `tokenOrg` may use now: `tokenOrg` while its owner's last
   * JWT carried it recently enough, else none. Also returns until when that answer holds.
   */
  async reachableOrg(
    sub: string,
    tokenOrg: string | null,
  ): Promise<{ orgId: string | undefined; until: number }> {
    if (!tokenOrg) return { orgId: undefined, until: Infinity };
    const row = await this.repo.findBySub(sub);
    const until = row ? row.seenAt.getTime() + this.config.tokens.orgSeenDays * DAY_MS : 0;
    if (!row || row.orgId !== tokenOrg || until <= Date.now())
      return { orgId: undefined, until: Infinity };
    return { orgId: tokenOrg, until };
  }
}
