import { Logger } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from 'typeorm';
import { SecretValue } from '../common/secret-value';
import type { AppConfig } from '../config/app-config';
import { LocalSecretEntity } from '../database/entities/local-secret.entity';
import { SecretStoreError } from './secret-store.error';
import type { SecretRef, SecretStore } from './secret-store.port';

const NONCE_BYTES = 12;
const MASTER_KEY_FILE = 'master.key';
/** Postgres unique_violation: two concurrent puts picked the same next version. */
const UNIQUE_VIOLATION = '23505';

export interface EncryptedSecret {
  ciphertext: Buffer;
  nonce: Buffer;
  authTag: Buffer;
}

/** First 16 hex chars of SHA-256: identifies a master key without revealing it. */
export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update(masterKey).digest('hex').slice(0, 16);
}

/**
 * Key id and version are the AAD, so a row copied onto another key or version fails
 * authentication instead of decrypting to someone else's key.
 */
function aad(keyId: string, version: number): Buffer {
  return Buffer.from(`byok-local-secret\0${keyId}\0${version}`, 'utf8');
}

export function encryptSecret(
  masterKey: Buffer,
  keyId: string,
  version: number,
  plaintext: string,
): EncryptedSecret {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, nonce);
  cipher.setAAD(aad(keyId, version));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { ciphertext, nonce, authTag: cipher.getAuthTag() };
}

/** Throws a SecretStoreError (never the plaintext) when the ciphertext, nonce, tag or AAD was altered. */
export function decryptSecret(
  masterKey: Buffer,
  keyId: string,
  version: number,
  enc: EncryptedSecret,
): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', masterKey, enc.nonce);
    decipher.setAAD(aad(keyId, version));
    decipher.setAuthTag(enc.authTag);
    return Buffer.concat([decipher.update(enc.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretStoreError(
      `local secret ${keyId} v${version} failed authentication: its ciphertext, nonce or tag was altered`,
    );
  }
}

/**
 * LOCAL_MASTER_KEY, else DATA_DIR/master.key, else a new key written there (0600) with a
 * loud warning, because losing that file loses every stored key.
 */
export function loadMasterKey(
  config: Pick<AppConfig, 'localMasterKey' | 'dataDir' | 'production'>,
  logger: Pick<Logger, 'warn'> = new Logger('LocalSecretStore'),
): Buffer {
  if (config.localMasterKey) return decodeMasterKey(config.localMasterKey, 'LOCAL_MASTER_KEY');
  if (config.production)
    throw new SecretStoreError(
      'LOCAL_MASTER_KEY is required in production: a generated master key is refused',
    );
  const file = join(config.dataDir, MASTER_KEY_FILE);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    // 'wx' fails when the file exists, so two processes sharing DATA_DIR cannot overwrite each other's key.
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readMasterKeyFile(file, logger);
  }
  // One line: a multi-line banner ends up as one JSON string full of \n in a log collector.
  logger.warn(
    `GENERATED A NEW LOCAL MASTER KEY at ${file} (mode 0600). It encrypts every provider key in the local store: if this file is lost, every stored key is lost with it. Back it up, and in production set LOCAL_MASTER_KEY (base64 of 32 bytes: openssl rand -base64 32) instead.`,
  );
  return key;
}

function readMasterKeyFile(file: string, logger: Pick<Logger, 'warn'>): Buffer {
  if ((statSync(file).mode & 0o077) !== 0)
    logger.warn(`${file} is readable by other users: chmod 600 it`);
  return decodeMasterKey(readFileSync(file, 'utf8').trim(), file);
}

function decodeMasterKey(b64: string, source: string): Buffer {
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32)
    throw new SecretStoreError(`${source} must hold base64 of exactly 32 bytes, got ${key.length}`);
  return key;
}

/**
 * The embedded store: AES-256-GCM ciphertext in `local_secrets`, one row per version, with a
 * fresh random nonce each time. The master key never touches the database; its id does, so a
 * row written under another master key is reported as such instead of as tampering.
 */
export class LocalSecretStore implements SecretStore {
  readonly kind = 'local' as const;
  readonly masterKeyId: string;
  readonly #masterKey: Buffer;

  constructor(
    private readonly repo: Repository<LocalSecretEntity>,
    masterKey: Buffer,
  ) {
    if (masterKey.length !== 32) throw new SecretStoreError('the master key must be 32 bytes');
    this.#masterKey = Buffer.from(masterKey);
    this.masterKeyId = masterKeyId(masterKey);
  }

  /** Loads or generates the master key per config; see loadMasterKey. */
  static create(
    repo: Repository<LocalSecretEntity>,
    config: Pick<AppConfig, 'localMasterKey' | 'dataDir' | 'production'>,
    logger?: Pick<Logger, 'warn'>,
  ): LocalSecretStore {
    return new LocalSecretStore(repo, loadMasterKey(config, logger));
  }

  async put(ref: SecretRef, value: SecretValue): Promise<{ version: number }> {
    for (let attempt = 0; ; attempt++) {
      const version = (await this.maxVersion(ref.keyId)) + 1;
      const enc = encryptSecret(this.#masterKey, ref.keyId, version, value.reveal());
      try {
        await this.db('put', ref, () =>
          this.repo.insert({
            keyId: ref.keyId,
            version,
            ...enc,
            masterKeyId: this.masterKeyId,
            createdAt: new Date(),
          }),
        );
        return { version };
      } catch (err) {
        if (!(err instanceof SecretStoreError && err.code === UNIQUE_VIOLATION) || attempt >= 4)
          throw err;
      }
    }
  }

  async get(ref: SecretRef, version?: number): Promise<SecretValue> {
    const row = await this.db('get', ref, () =>
      this.repo.findOne({
        where: version === undefined ? { keyId: ref.keyId } : { keyId: ref.keyId, version },
        order: { version: 'DESC' },
      }),
    );
    const label = `${ref.keyId}${version === undefined ? '' : ` v${version}`}`;
    if (!row) throw new SecretStoreError(`local secret ${label} not found`, 404);
    if (row.masterKeyId !== this.masterKeyId)
      throw new SecretStoreError(
        `local secret ${ref.keyId} v${row.version} was encrypted under master key ${row.masterKeyId}, ` +
          `but the configured master key is ${this.masterKeyId}: set LOCAL_MASTER_KEY ` +
          '(or DATA_DIR/master.key) to the key that encrypted it',
      );
    return new SecretValue(decryptSecret(this.#masterKey, ref.keyId, row.version, row));
  }

  async destroy(ref: SecretRef): Promise<void> {
    await this.db('destroy', ref, () => this.repo.delete({ keyId: ref.keyId }));
  }

  async destroyVersion(ref: SecretRef, version: number): Promise<void> {
    await this.db('destroyVersion', ref, () => this.repo.delete({ keyId: ref.keyId, version }));
  }

  async ping(): Promise<void> {
    await this.db('ping', undefined, () => this.repo.manager.query('SELECT 1'));
  }

  private async maxVersion(keyId: string): Promise<number> {
    const row = await this.db('put', { keyId }, () =>
      this.repo.findOne({
        where: { keyId },
        order: { version: 'DESC' },
        select: { version: true },
      }),
    );
    return row?.version ?? 0;
  }

  /**
   * Database errors keep their message (only ciphertext ever reaches the database) but lose
   * the driver error itself, whose `parameters` would drag the ciphertext into logs.
   */
  private async db<T>(
    op: string,
    ref: Pick<SecretRef, 'keyId'> | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as { message?: unknown; code?: unknown; driverError?: { code?: unknown } };
      const code = e.driverError?.code ?? e.code;
      const where = ref ? ` ${ref.keyId}` : '';
      throw new SecretStoreError(
        `local store ${op}${where} failed: ${typeof e.message === 'string' ? e.message : 'database error'}`,
        undefined,
        typeof code === 'string' ? code : undefined,
      );
    }
  }
}
