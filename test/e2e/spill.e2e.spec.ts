import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { eventually } from '../helpers/eventually';
import { ApiClient } from '../helpers/http';
import { testJwt as jwt } from '../helpers/modes';
import {
  startAgain,
  startPostgres,
  stopKeepingData,
  stopPostgres,
  type PostgresServer,
} from '../helpers/start-postgres';
import { startStack } from '../helpers/start-stack';

const REQUESTS = 30;

/**
 * Usage rows survive a database outage and a restart of the service during it: past the memory
 * bound they spill to DATA_DIR, the rest spill at shutdown, and the next start replays them.
 */
describe('usage rows across a database outage and a restart', () => {
  let pg: PostgresServer;
  const dataDir = mkdtempSync(join(tmpdir(), 'byok-spill-'));

  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await stopPostgres(pg);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts every request served while PostgreSQL was down, exactly once', async () => {
    const env = { DATABASE_URL: pg.url, DATA_DIR: dataDir, USAGE_BUFFER_MAX_ROWS: '5' };
    const first = await startStack({ env });
    const ids: string[] = [];
    let closed = false;
    try {
      const alice = new ApiClient(first.url, jwt('spill-alice'));
      await alice.post('/api/user/api-keys', {
        provider: 'cerebras',
        keyName: 'k',
        apiKey: 'csk-spill-key-000000000000000000001',
      });
      const chat = async () => {
        const r = await alice.post('/v1/chat/completions', {
          model: 'cerebras/llama-3.3-70b',
          messages: [{ role: 'user', content: 'count me' }],
        });
        expect(r.status).toBe(200);
        ids.push(r.headers['x-request-id']);
      };
      await chat(); // keys, limits and the token cache are warm

      await stopKeepingData(pg);
      for (let i = 0; i < REQUESTS; i++) await chat();
      // Past five rows in memory they went to disk while the database was down.
      expect(existsSync(join(dataDir, 'spill', 'usage_events.jsonl'))).toBe(true);
      const metrics = await fetch(`${first.url}/metrics`).then((r) => r.text());
      const spilled = /^byok_rows_spilled_total\{table="usage_events"\} (\d+)$/m.exec(metrics);
      expect(Number(spilled?.[1])).toBeGreaterThanOrEqual(REQUESTS - 5);
      await first.close(); // SIGTERM during the outage: the rest spill too
      closed = true;
    } finally {
      if (!closed) await first.close();
    }

    await startAgain(pg);
    const second = await startStack({ env });
    try {
      const db = new Client({ connectionString: pg.url });
      await db.connect();
      try {
        await eventually(async () => {
          const rows = await db.query<{ request_id: string }>(
            `SELECT request_id FROM usage_events WHERE caller_sub = 'spill-alice'`,
          );
          expect(rows.rows.map((r) => r.request_id).sort()).toEqual([...ids].sort());
        }, 10_000);
      } finally {
        await db.end();
      }
      expect(existsSync(join(dataDir, 'spill', 'usage_events.jsonl'))).toBe(false);
    } finally {
      await second.close();
    }
  }, 120_000);
});
