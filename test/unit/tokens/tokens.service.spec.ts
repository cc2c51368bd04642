import { createHash } from 'node:crypto';
import type { Caller } from '../../../src/auth/caller';
import { loadConfig } from '../../../src/config/app-config';
import type { AccessTokenEntity } from '../../../src/database/entities/access-token.entity';
import type { ProviderRegistryService } from '../../../src/providers/provider-registry.service';
import type { AuditService } from '../../../src/audit/audit.service';
import type { OrgSightingEntity } from '../../../src/database/entities';
import { InvalidationBus } from '../../../src/redis/invalidation-bus';
import type { OrgSightingRepository } from '../../../src/tokens/org-sighting.repository';
import { OrgSightings } from '../../../src/tokens/org-sightings';
import type { TokenRepository } from '../../../src/tokens/token.repository';
import { TokensService } from '../../../src/tokens/tokens.service';
import { DatabaseBreaker } from '../../../src/database/database-breaker';

/** In-memory stand-in for the repository, as immich's unit tests do. */
class FakeTokenRepository {
  rows: AccessTokenEntity[] = [];
  lookups = 0;
  touched: string[] = [];

  insert(row: AccessTokenEntity): Promise<void> {
    this.rows.push({ ...row });
    return Promise.resolve();
  }
  findByHash(hash: string): Promise<AccessTokenEntity | null> {
    this.lookups += 1;
    return Promise.resolve(this.rows.find((r) => r.tokenHash === hash) ?? null);
  }
  listByOwner(sub: string): Promise<AccessTokenEntity[]> {
    const rows = this.rows.filter((r) => r.ownerSub === sub);
    return Promise.resolve(rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()));
  }
  findById(id: string): Promise<AccessTokenEntity | null> {
    return Promise.resolve(this.rows.find((r) => r.id === id) ?? null);
  }
  delete(id: string): Promise<void> {
    this.rows = this.rows.filter((r) => r.id !== id);
    return Promise.resolve();
  }
  touch(id: string): Promise<void> {
    this.touched.push(id);
    return Promise.resolve();
  }
}

class FakeSightingRepository {
  rows = new Map<string, OrgSightingEntity>();
  findBySub(sub: string): Promise<OrgSightingEntity | null> {
    return Promise.resolve(this.rows.get(sub) ?? null);
  }
  save(sub: string, orgId: string | null, seenAt: Date): Promise<void> {
    this.rows.set(sub, { sub, orgId, seenAt });
    return Promise.resolve();
  }
}

const KNOWN = ['cerebras', 'openai', 'anthropic'];
const registry = {
  get: (id: string) => (KNOWN.includes(id) ? { id } : undefined),
  ids: () => [...KNOWN],
} as unknown as ProviderRegistryService;

const alice: Caller = { kind: 'jwt', sub: 'alice', orgId: 'acme', orgAdmin: true, admin: true };
const bob: Caller = { kind: 'jwt', sub: 'bob', orgAdmin: false, admin: false };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function setup(env: Record<string, string> = {}) {
  const repo = new FakeTokenRepository();
  const seen = new FakeSightingRepository();
  const config = loadConfig({ KEY_CACHE_TTL_MS: '30000', ...env });
  const sightings = new OrgSightings(seen as unknown as OrgSightingRepository, config);
  const audit = { record: jest.fn() } as unknown as AuditService;
  const service = new TokensService(
    repo as unknown as TokenRepository,
    registry,
    sightings,
    audit,
    new InvalidationBus(config),
    config,
    new DatabaseBreaker(config),
  );
  return { repo, seen, sightings, service };
}
const DAY = 86_400_000;

describe('TokensService.create', () => {
  it('returns byok_ + 32 random bytes once and stores only its SHA-256', async () => {
    const { repo, service } = setup();
    const created = await service.create(alice, {
      name: 'ci',
      providers: ['cerebras', 'cerebras'],
    });
    expect(created.token).toMatch(/^byok_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(created.token.slice(5), 'base64url')).toHaveLength(32);
    expect(created).toMatchObject({ name: 'ci', providers: ['cerebras'], orgId: 'acme' });
    // No expiry asked for: the longest allowed, TOKEN_MAX_TTL_DAYS (90 by default).
    expect(Date.parse(created.expiresAt!) - Date.now()).toBeGreaterThan(90 * DAY - 60_000);
    expect(Date.parse(created.expiresAt!) - Date.now()).toBeLessThanOrEqual(90 * DAY);
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    const [row] = repo.rows;
    expect(row.tokenHash).toBe(sha256(created.token));
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(row).toMatchObject({ ownerSub: 'alice', orgId: 'acme' });
    const again = await service.create(alice, { name: 'ci' });
    expect(again.token).not.toBe(created.token);
    expect(again.providers).toBeNull();
  });

  it('rejects unknown providers, listing the known ones', async () => {
    const { repo, service } = setup();
    await expect(
      service.create(alice, { name: 'x', providers: ['cerebras', 'nope'] }),
    ).rejects.toMatchObject({
      code: 'provider_unknown',
      status: 400,
      message: expect.stringMatching(/"nope".*cerebras, openai, anthropic/),
      details: { knownProviders: KNOWN },
    });
    expect(repo.rows).toHaveLength(0);
  });

  it('refuses a past expiry and an access token as creator', async () => {
    const { service } = setup();
    await expect(
      service.create(alice, { name: 'x', expiresAt: '2000-01-01T00:00:00Z' }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('expiresAt'),
    });
    const token: Caller = { ...alice, kind: 'token', admin: false, orgAdmin: false };
    await expect(service.create(token, { name: 'x' })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('caps the lifetime at TOKEN_MAX_TTL_DAYS, naming the cap', async () => {
    const { repo, service } = setup({ TOKEN_MAX_TTL_DAYS: '7' });
    const far = new Date(Date.now() + 8 * DAY).toISOString();
    await expect(service.create(alice, { name: 'x', expiresAt: far })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/at most 7 days.*TOKEN_MAX_TTL_DAYS/),
    });
    const near = new Date(Date.now() + 6 * DAY).toISOString();
    expect((await service.create(alice, { name: 'x', expiresAt: near })).expiresAt).toBe(near);
    expect(repo.rows).toHaveLength(1);
  });

  it('refuses providers: null instead of making a token that can use nothing', async () => {
    const { repo, service } = setup();
    await expect(
      service.create(alice, { name: 'x', providers: null as unknown as string[] }),
    ).rejects.toMatchObject({ code: 'validation_failed', details: { field: 'providers' } });
    expect(repo.rows).toHaveLength(0);
  });
});

describe('TokensService.list and revoke', () => {
  it('lists the owner’s tokens newest first, without token or hash', async () => {
    const { repo, service } = setup();
    const first = await service.create(alice, { name: 'one' });
    repo.rows[0].createdAt = new Date(Date.now() - 1000);
    await service.create(alice, { name: 'two' });
    await service.create(bob, { name: 'bobs' });
    const { data } = await service.list(alice);
    expect(data.map((t) => t.name)).toEqual(['two', 'one']);
    expect(data[1].id).toBe(first.id);
    expect(JSON.stringify(data)).not.toMatch(/byok_|tokenHash|[0-9a-f]{64}/);
  });

  it('answers 404 for another owner’s id or a non-uuid, never touching the row', async () => {
    const { repo, service } = setup();
    const created = await service.create(alice, { name: 'mine' });
    await expect(service.revoke(bob, created.id)).rejects.toMatchObject({
      code: 'not_found',
      status: 404,
    });
    await expect(service.revoke(alice, 'not-a-uuid')).rejects.toMatchObject({ code: 'not_found' });
    expect(repo.rows).toHaveLength(1);
  });

  it('lets an org admin revoke only tokens made in their organisation, an admin any', async () => {
    const { repo, service } = setup();
    const inAcme = await service.create(alice, { name: 'acme' });
    const bobs = await service.create(bob, { name: 'no org' });
    const acmeAdmin: Caller = {
      kind: 'jwt',
      sub: 'carol',
      orgId: 'acme',
      orgAdmin: true,
      admin: false,
    };
    const otherAdmin: Caller = { ...acmeAdmin, sub: 'dave', orgId: 'globex' };
    await expect(service.revoke(otherAdmin, inAcme.id, 'org')).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(service.revoke(acmeAdmin, bobs.id, 'org')).rejects.toMatchObject({
      code: 'not_found',
    });
    await service.revoke(acmeAdmin, inAcme.id, 'org');
    await service.revoke({ ...bob, sub: 'root', admin: true }, bobs.id, 'admin');
    expect(repo.rows).toHaveLength(0);
  });

  it('revocation is seen at once, even for a cached token', async () => {
    const { service } = setup();
    const created = await service.create(alice, { name: 'mine' });
    expect(await service.validate(created.token)).toBeDefined();
    await service.revoke(alice, created.id);
    expect(await service.validate(created.token)).toBeUndefined();
  });
});

describe('TokensService.validate', () => {
  it('builds a read-only token Caller with its scope', async () => {
    const { service } = setup();
    const created = await service.create(alice, { name: 'x', providers: ['openai'] });
    expect(await service.validate(created.token)).toEqual({
      kind: 'token',
      sub: 'alice',
      orgId: 'acme',
      orgAdmin: false,
      admin: false,
      tokenId: created.id,
      providers: ['openai'],
    });
  });

  it('is undefined for unknown and malformed tokens; malformed ones cost no lookup', async () => {
    const { repo, service } = setup();
    expect(await service.validate(`byok_${'x'.repeat(43)}`)).toBeUndefined();
    expect(repo.lookups).toBe(1);
    expect(await service.validate('byok_short')).toBeUndefined();
    expect(await service.validate(`byok_${'!'.repeat(43)}`)).toBeUndefined();
    expect(repo.lookups).toBe(1);
  });

  it('caches a valid token: one lookup and one last-used write per TTL', async () => {
    const { repo, service } = setup();
    const created = await service.create(alice, { name: 'x' });
    for (let i = 0; i < 5; i += 1) await service.validate(created.token);
    expect(repo.lookups).toBe(1);
    expect(repo.touched).toEqual([created.id]);
  });

  it('does not cache with KEY_CACHE_TTL_MS=0', async () => {
    const { repo, service } = setup({ KEY_CACHE_TTL_MS: '0' });
    const created = await service.create(alice, { name: 'x' });
    await service.validate(created.token);
    await service.validate(created.token);
    expect(repo.lookups).toBe(2);
  });

  it("reaches its organisation's keys only while the owner's last JWT carried it", async () => {
    const { seen, sightings, service } = setup();
    const created = await service.create(alice, { name: 'x' });
    expect((await service.validate(created.token))?.orgId).toBe('acme');
    // Alice is seen without the organisation: the cached token loses it at once.
    await sightings.seen({ ...alice, orgId: undefined });
    expect((await service.validate(created.token))?.orgId).toBeUndefined();
    // Back in acme: it comes back; in another organisation, it does not.
    await sightings.seen(alice);
    expect((await service.validate(created.token))?.orgId).toBe('acme');
    await sightings.seen({ ...alice, orgId: 'globex' });
    expect((await service.validate(created.token))?.orgId).toBeUndefined();
    // Not seen for longer than TOKEN_ORG_SEEN_DAYS: no org keys either.
    seen.rows.set('alice', { sub: 'alice', orgId: 'acme', seenAt: new Date(Date.now() - 8 * DAY) });
    const fresh = await service.create(bob, { name: 'y' });
    expect((await service.validate(fresh.token))?.orgId).toBeUndefined();
    const { service: other } = setup();
    expect((await other.validate(created.token))?.orgId).toBeUndefined();
  });

  it('stops accepting a token at its expiry, also from the cache', async () => {
    const { repo, service } = setup();
    const start = Date.now();
    const now = jest.spyOn(Date, 'now').mockReturnValue(start);
    try {
      const created = await service.create(alice, {
        name: 'short',
        expiresAt: new Date(start + 5000).toISOString(),
      });
      expect(await service.validate(created.token)).toBeDefined();
      now.mockReturnValue(start + 5000);
      expect(await service.validate(created.token)).toBeUndefined();
      expect(repo.lookups).toBe(2);
    } finally {
      now.mockRestore();
    }
  });
});
