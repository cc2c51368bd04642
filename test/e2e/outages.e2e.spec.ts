import { ApiClient } from '../helpers/http';
import { testJwt as jwt } from '../helpers/modes';
import { pauseOpenBao, pausePostgres } from '../helpers/pause';
import { startOpenBao, stopOpenBao, type OpenBaoServer } from '../helpers/start-openbao';
import { startPostgres, stopPostgres, type PostgresServer } from '../helpers/start-postgres';
import { startStack, type Stack } from '../helpers/start-stack';

const KEY = 'csk-outage-key-00000000000000000000001';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ready {
  status: string;
  info: Record<string, { status: string }>;
}

/**
 * The proxy keeps serving known keys while PostgreSQL or OpenBao is frozen (SIGSTOP: open
 * connections, no answers, the worst kind of outage). Its own servers, so that freezing them
 * cannot disturb any other suite.
 */
describe('outages of the database and the secret store', () => {
  let pg: PostgresServer;
  let bao: OpenBaoServer;
  let stack: Stack;
  let alice: ApiClient;

  beforeAll(async () => {
    [pg, bao] = await Promise.all([startPostgres(), startOpenBao()]);
    stack = await startStack({
      env: {
        DATABASE_URL: pg.url,
        VAULT_ADDR: bao.addr,
        VAULT_TOKEN: bao.token,
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
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await Promise.all([pg && stopPostgres(pg), bao && stopOpenBao(bao)]);
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
      await sleep(50);
    }
    return { statuses, ms };
  }

  const ready = async () => {
    const r = await new ApiClient(stack.url).get('/readyz');
    return { status: r.status, body: r.json as Ready };
  };

  it('serves known keys while PostgreSQL is frozen, says so in /readyz, and recovers', async () => {
    expect((await stream(2)).statuses).toEqual([200, 200]);
    const thaw = pausePostgres(pg);
    let during: { statuses: number[]; ms: number[] };
    let readiness: Awaited<ReturnType<typeof ready>>;
    try {
      during = await stream(20);
      readiness = await ready();
    } finally {
      thaw();
    }
    expect(during.statuses).toEqual(Array.from({ length: 20 }, () => 200));
    // No request waits for the database's timeout: at most the short reload wait, once.
    const sorted = [...during.ms].sort((a, b) => a - b);
    expect(sorted[10]).toBeLessThan(1000);
    expect(sorted[19]).toBeLessThan(2500);
    expect(readiness.status).toBe(200);
    expect(readiness.body.status).toBe('degraded');
    expect(readiness.body.info.database.status).toBe('down');

    // Back: reloads work again and /readyz says so.
    await stream(2);
    const after = await ready();
    expect(after.status).toBe(200);
    expect(after.body.info.database.status).toBe('up');
  }, 60_000);

  it('serves known keys while OpenBao is frozen (secrets already read are kept)', async () => {
    expect((await stream(2)).statuses).toEqual([200, 200]);
    const thaw = pauseOpenBao(bao);
    let during: { statuses: number[]; ms: number[] };
    let readiness: Awaited<ReturnType<typeof ready>>;
    try {
      during = await stream(10);
      readiness = await ready();
    } finally {
      thaw();
    }
    expect(during.statuses).toEqual(Array.from({ length: 10 }, () => 200));
    expect([...during.ms].sort((a, b) => a - b)[5]).toBeLessThan(1000);
    expect(readiness.status).toBe(200);
    expect(readiness.body.info.secretStore.status).toBe('down');
    expect(stack.double.requests.at(-1)?.key).toBe(KEY);
  }, 60_000);
});
