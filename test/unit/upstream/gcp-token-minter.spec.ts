import { generateKeyPairSync } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { AppError } from '../../../src/common/errors/app-error';
import { SecretValue } from '../../../src/common/secret-value';
import type { ProviderRecord } from '../../../src/providers/provider.schema';
import { GcpTokenMinter } from '../../../src/upstream/credentials/gcp-service-account';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sa = {
  type: 'service_account',
  client_email: 'sa@p.iam.gserviceaccount.com',
  private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  private_key_id: 'kid-1234',
};
const provider = { name: 'Vertex', tokenUrl: 'https://oauth2.example/token' } as ProviderRecord;

/** A token endpoint that answers after `release()`, counting exchanges. */
function endpoint(status = 200, expiresIn = 3600) {
  let n = 0;
  let release: () => void = () => undefined;
  const gate = () => new Promise<void>((r) => (release = r));
  const dispatcher = {
    async request() {
      n++;
      await gate();
      return {
        statusCode: status,
        body: { json: () => Promise.resolve({ access_token: `tok-${n}`, expires_in: expiresIn }) },
      };
    },
  } as unknown as Dispatcher;
  return { dispatcher, count: () => n, release: () => release() };
}

describe('GcpTokenMinter', () => {
  afterEach(() => jest.restoreAllMocks());

  it('makes one exchange for concurrent requests and caches the token until shortly before expiry', async () => {
    const e = endpoint();
    const minter = new GcpTokenMinter(e.dispatcher, 1000);
    const secret = new SecretValue(JSON.stringify(sa));
    const all = Array.from({ length: 5 }, () => minter.token(provider, secret));
    await new Promise((r) => setImmediate(r));
    e.release();
    expect(new Set(await Promise.all(all))).toEqual(new Set(['tok-1']));
    expect(e.count()).toBe(1);
    // The token and the private key are hidden with the credential from now on.
    expect(secret.parts).toEqual(expect.arrayContaining(['tok-1', sa.private_key]));

    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 54 * 60_000);
    expect(await minter.token(provider, secret)).toBe('tok-1');
    jest.spyOn(Date, 'now').mockReturnValue(now + 56 * 60_000); // within 5 minutes of expiry
    // Refreshed once, however many requests want the token meanwhile.
    const refreshed = Array.from({ length: 5 }, () => minter.token(provider, secret));
    await new Promise((r) => setImmediate(r));
    e.release();
    expect(new Set(await Promise.all(refreshed))).toEqual(new Set(['tok-2']));
    expect(e.count()).toBe(2);
  });

  it("calls a refused service account the provider's refusal of the key (401), never a 5xx", async () => {
    const e = endpoint(400);
    const minter = new GcpTokenMinter(e.dispatcher, 1000);
    const p = minter.token(provider, new SecretValue(JSON.stringify(sa)));
    await new Promise((r) => setImmediate(r));
    e.release();
    await expect(p).rejects.toMatchObject({ code: 'provider_key_rejected', status: 401 });
    await expect(p).rejects.toBeInstanceOf(AppError);
  });
});
