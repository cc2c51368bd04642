import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { vaultRequest } from '../helpers/start-openbao';
import { createTestDatabase, dropTestDatabase } from '../helpers/start-postgres';

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('test infrastructure', () => {
  it('creates and drops a fresh PostgreSQL database', async () => {
    const url = await createTestDatabase('infra');
    const dbName = new URL(url).pathname.slice(1);
    const rows = await query<{ one: number; db: string }>(
      url,
      'SELECT 1 AS one, current_database() AS db',
    );
    expect(rows).toEqual([{ one: 1, db: dbName }]);

    await dropTestDatabase(url);
    await expect(query(url, 'SELECT 1')).rejects.toThrow(/does not exist/);
  });

  it('publishes where the PostgreSQL binaries and data live', () => {
    expect(existsSync(join(process.env.TEST_PG_BIN ?? '', 'pg_ctl'))).toBe(true);
    expect(existsSync(join(process.env.TEST_PG_DATA ?? '', 'PG_VERSION'))).toBe(true);
  });

  it('writes and reads a KV v2 secret in OpenBao', async () => {
    const write = await vaultRequest('POST', '/v1/secret/data/infra-test', { data: { a: 'b' } });
    expect(write.status).toBe(200);

    const read = await vaultRequest<{
      data: { data: { a: string }; metadata: { version: number } };
    }>('GET', '/v1/secret/data/infra-test');
    expect(read.status).toBe(200);
    expect(read.body.data.data).toEqual({ a: 'b' });
    expect(read.body.data.metadata.version).toBeGreaterThanOrEqual(1);
  });

  it('refuses a request without a valid token', async () => {
    const res = await vaultRequest('GET', '/v1/secret/data/infra-test', undefined, 'not-a-token');
    expect(res.status).toBe(403);
  });
});
