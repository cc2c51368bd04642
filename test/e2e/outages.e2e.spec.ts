import { Client } from 'pg';
import { eventually } from '../helpers/eventually';
import { ApiClient, type Exchange } from '../helpers/http';
import { testJwt as jwt } from '../helpers/modes';
import { pauseOpenBao, pausePostgres } from '../helpers/pause';
import {
  killOpenBao,
  restartOpenBao,
  startPersistentOpenBao,
  stopOpenBao,
  type PersistentOpenBao,
} from '../helpers/start-openbao';
import {
  startAgain,
  startPostgres,
  stopKeepingData,
  stopPostgres,
  type PostgresServer,
} from '../helpers/start-postgres';
import { startRedis, type RedisServer } from '../helpers/start-redis';
import { startStack, type Stack } from '../helpers/start-stack';

const KEY = 'csk-outage-key-00000000000000000000001';
const OTHER_KEY = 'csk-outage-key-00000000000000000000002';
const PREFIX = 'outages';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** No write may take longer than this with a dependency frozen: the bound is seconds, not a hang. */
const WRITE_BOUND_MS = 12_000;

interface Ready {
  status: string;
  info: Record<string, { status: string; mode?: string }>;
}

/**
 * Every dependency goes away in turn under a steady stream of proxied requests: PostgreSQL and
 * OpenBao frozen (SIGSTOP: open connections, no answers, the worst kind), killed and started
 * again, and Redis stopped. Known keys keep serving, writes fail fast and leave nothing behind,
 * /readyz says what is down, the service reconnects by itself, and at the end the usage API counts
 * exactly the requests that were served. Its own servers, so that no other suite is disturbed;
 * the tests run in order and share the count.
 */
describe('outages of the database, the secret store and Redis', () => {
  let pg: PostgresServer;
  let bao: PersistentOpenBao;
  let redis: RedisServer;
  let stack: Stack;
  let alice: ApiClient;
  let keyId: string;
  /** One line per outage for the test log: what was measured. */
  const measured: string[] = [];
  const report = (what: string, during: { ms: number[] }, extra = '') =>
    measured.push(
      `${what}: ${during.ms.length} requests served, median ${median(during.ms).toFixed(1)} ms, max ${Math.max(...during.ms).toFixed(0)} ms${extra}`,
    );
  /** x-request-id and status of every proxied request sent. */
  const sent: { id: string; status: number }[] = [];

  beforeAll(async () => {
    [pg, bao, redis] = await Promise.all([startPostgres(), startPersistentOpenBao(), startRedis()]);
    stack = await startStack({
      env: {
        DATABASE_URL: pg.url,
        VAULT_ADDR: bao.addr,
        VAULT_TOKEN: bao.token,
        VAULT_PREFIX: PREFIX,
        REDIS_URL: redis.url,
        // Limits apply, so Redis is on the request path.
        LIMIT_USER_RPM: '100000',
        // Key sets go stale every 200 ms, so each outage below spans many reloads.
        KEY_CACHE_TTL_MS: '200',
      },
    });
    alice = new ApiClient(stack.url, jwt('alice'));
    const saved = await alice.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'k',
      apiKey: KEY,
    });
    expect(saved.status).toBe(201);
    keyId = (saved.json as { id: string }).id;
  }, 120_000);
  afterAll(async () => {
    if (measured.length) process.stderr.write(`outages:\n  ${measured.join('\n  ')}\n`);
    await stack?.close();
    await Promise.all([pg && stopPostgres(pg), bao && stopOpenBao(bao), redis?.stop()]);
  });

  /** A steady stream of proxied requests; the status and time of each. */
  async function stream(n: number): Promise<{ statuses: number[]; ms: number[] }> {
    const statuses: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await alice.post('/v1/chat/completions', {
        model: 'cerebras/llama-3.3-70b',
        messages: [{ role: 'user', content: `during the outage ${i}` }],
      });
      ms.push(performance.now() - t);
      statuses.push(r.status);
      sent.push({ id: r.headers['x-request-id'], status: r.status });
      await sleep(50);
    }
    return { statuses, ms };
  }
  const allOk = (n: number) => Array.from({ length: n }, () => 200);
  /** The median request waits for no dependency's timeout. */
  const median = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)];

  const ready = async () => {
    const r = await new ApiClient(stack.url).get('/readyz');
    return { status: r.status, body: r.json as Ready };
  };
  /** byok_dependency_up as scraped now: dependency → 0 or 1. */
  const dependencyUp = async () => {
    const text = await fetch(`${stack.url}/metrics`).then((r) => r.text());
    const found = text.matchAll(/^byok_dependency_up\{dependency="(\w+)"\} (\d)$/gm);
    return Object.fromEntries([...found].map(([, name, up]) => [name, Number(up)]));
  };

  /** A write, timed. */
  async function timed(write: () => Promise<Exchange>) {
    const t = performance.now();
    const res = await write();
    return { res, ms: performance.now() - t };
  }
  const writes = {
    save: () =>
      alice.post('/api/user/api-keys', { provider: 'cerebras', keyName: 'new', apiKey: OTHER_KEY }),
    rotate: () => alice.post(`/api/user/api-keys/${keyId}/rotate`, { apiKey: OTHER_KEY }),
    remove: () => alice.delete(`/api/user/api-keys/${keyId}`),
  };

  /** After the outage: alice still has exactly her one key, serving its first secret. */
  async function expectNothingChanged() {
    const keys = await alice.get('/api/user/api-keys');
    expect(keys.status).toBe(200);
    const listed = (keys.json as { data: { id: string; keyName: string }[] }).data;
    expect(listed.map((k) => [k.id, k.keyName])).toEqual([[keyId, 'k']]);
    await eventually(async () => {
      const list = await fetch(`${bao.addr}/v1/secret/metadata/${PREFIX}/user/alice?list=true`, {
        headers: { 'x-vault-token': bao.token },
      });
      const body = (await list.json()) as { data: { keys: string[] } };
      expect(body.data.keys).toEqual([keyId]);
    }, 5000);
    await stream(1);
    expect(stack.double.requests.at(-1)?.key).toBe(KEY);
  }

  /**
   * `n` proxied requests while a dependency is away, then /readyz and /metrics, then `restore()`
   * brings it back. Every request is served and the median waits for no dependency's timeout.
   */
  async function throughOutage(name: string, n: number, restore: () => unknown) {
    let during: { statuses: number[]; ms: number[] };
    let readiness: Awaited<ReturnType<typeof ready>>;
    let scraped: Record<string, number>;
    try {
      during = await stream(n);
      readiness = await ready();
      scraped = await dependencyUp();
    } finally {
      await restore();
    }
    expect(during.statuses).toEqual(allOk(n));
    report(name, during);
    expect(median(during.ms)).toBeLessThan(1000);
    expect(readiness.status).toBe(200);
    expect(readiness.body.status).toBe('degraded');
    return { during, readiness, scraped };
  }

  /** Key writes while a dependency is frozen: each a 503 `code` within the bound, nothing changed. */
  async function writesDuring(
    name: string,
    sends: (() => Promise<Exchange>)[],
    thaw: () => void,
    code: string,
  ) {
    const results: Awaited<ReturnType<typeof timed>>[] = [];
    try {
      for (const write of sends) results.push(await timed(write));
    } finally {
      thaw();
    }
    measured.push(`${name}: 503 after ${results.map((r) => r.ms.toFixed(0)).join(', ')} ms`);
    for (const { res, ms } of results) {
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({ code });
      expect(ms).toBeLessThan(WRITE_BOUND_MS);
      expect(res.text).not.toContain(OTHER_KEY);
    }
    await eventually(expectNothingChanged, 15_000);
  }

  it('serves known keys while PostgreSQL is frozen, says so in /readyz, and recovers', async () => {
    expect((await stream(2)).statuses).toEqual([200, 200]);
    const { during, readiness, scraped } = await throughOutage(
      'PostgreSQL frozen',
      20,
      pausePostgres(pg),
    );
    // At most the short reload wait, once: never the database's timeout.
    expect(Math.max(...during.ms)).toBeLessThan(2500);
    expect(readiness.body.info.database.status).toBe('down');
    expect(scraped).toEqual({ database: 0, secret_store: 1, limits: 1 });

    // Back: reloads work again and /readyz says so.
    await stream(2);
    await eventually(async () => {
      const after = await ready();
      expect(after.status).toBe(200);
      expect(after.body.info.database.status).toBe('up');
    }, 10_000);
  }, 60_000);

  it('answers key writes with 503 within seconds while PostgreSQL is frozen, changing nothing', async () => {
    const sends = [writes.save, writes.rotate, writes.remove];
    await writesDuring(
      'PostgreSQL frozen, key writes',
      sends,
      pausePostgres(pg),
      'database_unavailable',
    );
  }, 90_000);

  it('serves known keys while OpenBao is frozen (secrets already read are kept)', async () => {
    expect((await stream(2)).statuses).toEqual([200, 200]);
    const { readiness } = await throughOutage('OpenBao frozen', 10, pauseOpenBao(bao));
    expect(readiness.body.info.secretStore.status).toBe('down');
    expect(stack.double.requests.at(-1)?.key).toBe(KEY);
  }, 60_000);

  it('answers key saves and rotations with 503 within seconds while OpenBao is frozen, changing nothing', async () => {
    const sends = [writes.save, writes.rotate];
    await writesDuring(
      'OpenBao frozen, key writes',
      sends,
      pauseOpenBao(bao),
      'secret_store_unavailable',
    );
  }, 90_000);

  it('serves known keys while OpenBao is down, and writes again once it is back', async () => {
    await killOpenBao(bao);
    const { readiness } = await throughOutage('OpenBao killed', 10, () => restartOpenBao(bao));
    expect(readiness.body.info.secretStore.status).toBe('down');

    // The service reconnects by itself: a rotation (a secret write and read) works.
    await eventually(async () => {
      const rotated = await alice.post(`/api/user/api-keys/${keyId}/rotate`, { apiKey: KEY });
      expect(rotated.status).toBe(200);
    }, 15_000);
    await eventually(async () => expect((await ready()).body.info.secretStore.status).toBe('up'));
    expect((await stream(2)).statuses).toEqual([200, 200]);
  }, 90_000);

  it('serves known keys while PostgreSQL is down, and writes again once it is back', async () => {
    await stopKeepingData(pg);
    const { readiness } = await throughOutage('PostgreSQL stopped', 10, () => startAgain(pg));
    expect(readiness.body.info.database.status).toBe('down');

    await eventually(async () => {
      const toggled = await alice.patch(`/api/user/api-keys/${keyId}`, { priority: 1 });
      expect(toggled.status).toBe(200);
    }, 15_000);
    await eventually(async () => expect((await ready()).body.info.database.status).toBe('up'));
  }, 90_000);

  it('keeps limiting per replica while Redis is down, and shares counters again once it is back', async () => {
    await redis.stop();
    const { readiness } = await throughOutage('Redis stopped', 10, async () => {
      redis = await startRedis(redis.port);
    });
    expect(readiness.body.info.limits).toMatchObject({
      status: 'degraded',
      mode: 'memory-fallback',
    });

    await eventually(async () => {
      await stream(1);
      expect((await ready()).body.info.limits).toMatchObject({ status: 'up', mode: 'redis' });
    }, 20_000);
    expect(await dependencyUp()).toEqual({ database: 1, secret_store: 1, limits: 1 });
  }, 90_000);

  it('counts exactly the requests it answered across every outage, and served every one', async () => {
    expect(sent.length).toBeGreaterThan(60);
    expect(sent.filter((r) => r.status !== 200)).toEqual([]);
    const db = new Client({ connectionString: pg.url });
    await db.connect();
    try {
      await eventually(async () => {
        const rows = await db.query<{ request_id: string }>(
          `SELECT request_id FROM usage_events WHERE caller_sub = 'alice'`,
        );
        expect(rows.rows.map((r) => r.request_id).sort()).toEqual(sent.map((r) => r.id).sort());
      }, 20_000);
    } finally {
      await db.end();
    }
    const usage = await alice.get('/api/user/usage?groupBy=provider');
    expect(usage.status).toBe(200);
    const rows = (usage.json as { data: { group: string; requests: number }[] }).data;
    expect(rows).toEqual([
      expect.objectContaining({ group: 'cerebras', requests: sent.length, errors: 0 }),
    ]);
  }, 60_000);
});
