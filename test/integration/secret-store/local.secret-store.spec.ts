import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type Repository } from 'typeorm';
import { SecretValue } from '../../../src/common/secret-value';
import { loadConfig } from '../../../src/config/app-config';
import { openDatabase } from '../../../src/database/data-source';
import { LocalSecretEntity } from '../../../src/database/entities/local-secret.entity';
import { ConfigModule } from '../../../src/config/config.module';
import { LocalSecretStore } from '../../../src/secret-store/local.secret-store';
import { SecretStoreError } from '../../../src/secret-store/secret-store.error';
import { SecretStoreModule } from '../../../src/secret-store/secret-store.module';
import {
  SECRET_STORE,
  type SecretRef,
  type SecretStore,
} from '../../../src/secret-store/secret-store.port';
import { createTestDatabase, dropTestDatabase } from '../../helpers/start-postgres';

/** A fresh database on the shared test PostgreSQL, with the migrations applied. */
async function freshDatabase(dataDir: string): Promise<{ ds: DataSource; close(): Promise<void> }> {
  const url = await createTestDatabase('secret_store_local');
  const handle = await openDatabase(loadConfig({ DATA_DIR: dataDir, DATABASE_URL: url }));
  const ds = new DataSource(handle.options);
  await ds.initialize();
  await ds.runMigrations();
  return {
    ds,
    close: async () => {
      await ds.destroy();
      await handle.close();
      await dropTestDatabase(url);
    },
  };
}

const quietLogger = { warn: jest.fn() };
const ref = (): SecretRef => ({ ownerType: 'user', ownerId: 'alice', keyId: randomUUID() });
const masterKey = (): string => randomBytes(32).toString('base64');

describe('LocalSecretStore (real database)', () => {
  let dataDir: string;
  let db: { ds: DataSource; close(): Promise<void> };
  let repo: Repository<LocalSecretEntity>;
  let store: LocalSecretStore;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'byok-local-store-'));
    db = await freshDatabase(dataDir);
    repo = db.ds.getRepository(LocalSecretEntity);
    store = LocalSecretStore.create(
      repo,
      { localMasterKey: masterKey(), dataDir, production: false },
      quietLogger,
    );
  });

  afterAll(async () => {
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('round-trips a secret and pings', async () => {
    const r = ref();
    expect(store.kind).toBe('local');
    await expect(store.put(r, new SecretValue('sk-round-trip-1234'))).resolves.toEqual({
      version: 1,
    });
    expect((await store.get(r)).reveal()).toBe('sk-round-trip-1234');
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('numbers versions and reads each one; destroyVersion drops one', async () => {
    const r = ref();
    expect(await store.put(r, new SecretValue('sk-version-one'))).toEqual({ version: 1 });
    expect(await store.put(r, new SecretValue('sk-version-two'))).toEqual({ version: 2 });
    expect((await store.get(r)).reveal()).toBe('sk-version-two');
    expect((await store.get(r, 1)).reveal()).toBe('sk-version-one');
    await store.destroyVersion(r, 2);
    await expect(store.get(r, 2)).rejects.toMatchObject({ status: 404 });
    expect((await store.get(r)).reveal()).toBe('sk-version-one');
  });

  it('keeps only ciphertext in the table, with a fresh nonce per version', async () => {
    const r = ref();
    const raw = 'sk-plaintext-must-not-appear-9876';
    await store.put(r, new SecretValue(raw));
    await store.put(r, new SecretValue(raw));
    const rows: Array<Record<string, Buffer | string | number>> = await db.ds.query(
      'SELECT * FROM local_secrets WHERE key_id = $1 ORDER BY version',
      [r.keyId],
    );
    expect(rows).toHaveLength(2);
    const dump = JSON.stringify(rows.map((row) => Object.values(row).map(String)));
    expect(dump).not.toContain(raw);
    expect(dump).not.toContain(Buffer.from(raw).toString('base64'));
    expect(Buffer.concat(rows.map((row) => row.ciphertext as Buffer)).includes(raw)).toBe(false);
    expect((rows[0].nonce as Buffer).length).toBe(12);
    expect((rows[0].nonce as Buffer).equals(rows[1].nonce as Buffer)).toBe(false);
    expect(rows[0].master_key_id).toBe(store.masterKeyId);
  });

  it('detects a flipped byte in the ciphertext, the tag or the nonce', async () => {
    for (const column of ['ciphertext', 'auth_tag', 'nonce']) {
      const r = ref();
      await store.put(r, new SecretValue('sk-tamper-target'));
      await db.ds.query(
        `UPDATE local_secrets SET ${column} = set_byte(${column}, 0, get_byte(${column}, 0) # 1) WHERE key_id = $1`,
        [r.keyId],
      );
      const err = await store.get(r).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SecretStoreError);
      expect((err as Error).message).toMatch(/failed authentication/);
      expect((err as Error).message).not.toContain('sk-tamper-target');
    }
  });

  it('refuses a ciphertext moved onto another key id', async () => {
    const a = ref();
    const b = ref();
    await store.put(a, new SecretValue('sk-belongs-to-a'));
    await db.ds.query(`UPDATE local_secrets SET key_id = $1 WHERE key_id = $2`, [b.keyId, a.keyId]);
    await expect(store.get(b)).rejects.toThrow(/failed authentication/);
  });

  it('names both master key ids when the configured master key is not the one used', async () => {
    const r = ref();
    await store.put(r, new SecretValue('sk-other-master'));
    const other = LocalSecretStore.create(
      repo,
      { localMasterKey: masterKey(), dataDir, production: false },
      quietLogger,
    );
    const err = (await other.get(r).catch((e: unknown) => e)) as SecretStoreError;
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.message).toContain(store.masterKeyId);
    expect(err.message).toContain(other.masterKeyId);
    expect(err.message).toMatch(/LOCAL_MASTER_KEY/);
  });

  it('destroy removes every row of the key and tolerates a missing key', async () => {
    const r = ref();
    const keep = ref();
    await store.put(r, new SecretValue('sk-destroy-1'));
    await store.put(r, new SecretValue('sk-destroy-2'));
    await store.put(keep, new SecretValue('sk-keep'));
    await store.destroy(r);
    expect(await repo.countBy({ keyId: r.keyId })).toBe(0);
    expect(await repo.countBy({ keyId: keep.keyId })).toBe(1);
    await expect(store.get(r)).rejects.toMatchObject({ status: 404, notFound: true });
    await expect(store.destroy(r)).resolves.toBeUndefined();
  });

  it('gives concurrent puts distinct versions', async () => {
    const r = ref();
    const results = await Promise.all(
      ['a', 'b', 'c'].map((s) => store.put(r, new SecretValue(`sk-concurrent-${s}`))),
    );
    expect(results.map((x) => x.version).sort()).toEqual([1, 2, 3]);
  });

  it('generates DATA_DIR/master.key once with mode 0600 and a loud warning, then reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'byok-master-key-'));
    try {
      const logger = { warn: jest.fn() };
      const first = LocalSecretStore.create(repo, { dataDir: dir, production: false }, logger);
      const file = join(dir, 'master.key');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(logger.warn).toHaveBeenCalledTimes(1);
      const warning = String(logger.warn.mock.calls[0][0]);
      expect(warning).toContain(file);
      expect(warning).toMatch(/LOCAL_MASTER_KEY/);
      expect(warning).toMatch(/lost/);

      const r = ref();
      await first.put(r, new SecretValue('sk-generated-master'));
      const again = LocalSecretStore.create(repo, { dataDir: dir, production: false }, logger);
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(again.masterKeyId).toBe(first.masterKeyId);
      expect((await again.get(r)).reveal()).toBe('sk-generated-master');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is what SecretStoreModule provides when SECRET_STORE=local', async () => {
    const config = loadConfig({ DATA_DIR: dataDir, LOCAL_MASTER_KEY: masterKey() });
    @Module({
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot(db.ds.options),
        SecretStoreModule,
      ],
    })
    class Root {}
    const app = await NestFactory.createApplicationContext(Root, {
      logger: false,
      abortOnError: false,
    });
    try {
      const provided = app.get<SecretStore>(SECRET_STORE);
      expect(provided).toBeInstanceOf(LocalSecretStore);
      const r = ref();
      await provided.put(r, new SecretValue('sk-through-the-module'));
      expect((await provided.get(r)).reveal()).toBe('sk-through-the-module');
      await expect(store.get(r)).rejects.toThrow(/encrypted under master key/);
    } finally {
      await app.close();
    }
  });
});
