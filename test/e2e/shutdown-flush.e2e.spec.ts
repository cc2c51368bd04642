import { Client } from 'pg';
import { ApiClient } from '../helpers/http';
import { POSTGRES_VAULT, testJwt } from '../helpers/modes';
import { startStack } from '../helpers/start-stack';

const REQUESTS = 40;

/**
 * Usage and audit rows are queued off the request and written in batches; stopping the service
 * must write what is queued while the database pool is still open. PostgreSQL, so the rows can
 * be read after the app is gone.
 */
describe('stopping the app with usage and audit rows queued', () => {
  it('writes every queued row before the database pool closes', async () => {
    const stack = await startStack({ mode: POSTGRES_VAULT });
    let closed = false;
    try {
      const alice = new ApiClient(stack.url, testJwt('shutdown-alice'));
      const saved = await alice.post('/api/user/api-keys', {
        provider: 'cerebras',
        keyName: 'k',
        apiKey: 'csk-shutdown-flush-000000000000000001',
      });
      expect(saved.status).toBe(201);
      const ids: string[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const r = await alice.post('/v1/chat/completions', {
          model: 'cerebras/llama-3.3-70b',
          messages: [{ role: 'user', content: `row ${i}` }],
        });
        expect(r.status).toBe(200);
        ids.push(r.headers['x-request-id']);
      }
      // The batch timer runs every second: most of these rows are still queued now.
      await stack.close();
      closed = true;

      const db = new Client({ connectionString: stack.env.DATABASE_URL });
      await db.connect();
      try {
        const usage = await db.query<{ request_id: string }>(
          `SELECT request_id FROM usage_events WHERE caller_sub = 'shutdown-alice'`,
        );
        expect(usage.rows.map((r) => r.request_id).sort()).toEqual([...ids].sort());
        const audit = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_events WHERE actor_sub = 'shutdown-alice' AND action = 'key.create'`,
        );
        expect(audit.rows[0].n).toBe(1);
      } finally {
        await db.end();
      }
    } finally {
      if (!closed) await stack.close();
    }
  });
});
