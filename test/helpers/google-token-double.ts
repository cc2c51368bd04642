import { createPublicKey, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Google-style service-account key file, made for the test: the private key is fresh. */
export function makeServiceAccount(email = 'proxy-test@my-project.iam.gserviceaccount.com') {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    type: 'service_account',
    project_id: 'my-project',
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: email,
    client_id: '1234567890',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
  };
}

type ServiceAccount = ReturnType<typeof makeServiceAccount>;

/**
 * Google's OAuth token endpoint for the JWT-bearer grant: verifies the RS256 assertion against
 * the public key of a known service account (with node:crypto, not the service's jsonwebtoken),
 * its issuer, audience (this endpoint) and lifetime, and answers an expiring access token.
 * Not checked (only Google could): revoked keys, IAM roles, the scope's meaning.
 */
export class GoogleTokenDouble {
  readonly issued: { token: string; email: string }[] = [];
  /** Seconds each token lives (Google's are 3600). */
  expiresIn = 3600;
  readonly #accounts = new Map<string, ServiceAccount>();
  readonly #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const problem = req.url !== '/token' ? 'not found' : this.#check(form);
      res.writeHead(problem ? 400 : 200, { 'content-type': 'application/json' });
      if (problem)
        return res.end(JSON.stringify({ error: 'invalid_grant', error_description: problem }));
      const token = `ya29.double-${randomBytes(24).toString('base64url')}`;
      const email = JSON.parse(
        Buffer.from(form.get('assertion')!.split('.')[1], 'base64url').toString(),
      ).iss as string;
      this.issued.push({ token, email });
      res.end(
        JSON.stringify({ access_token: token, expires_in: this.expiresIn, token_type: 'Bearer' }),
      );
    });
  });

  get tokenUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/token`;
  }

  allow(sa: ServiceAccount): void {
    this.#accounts.set(sa.client_email, sa);
  }

  /** Whether a bearer token is one this endpoint issued. */
  valid(token: string | undefined): boolean {
    return this.issued.some((t) => t.token === token);
  }

  #check(form: URLSearchParams): string | undefined {
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return 'bad grant_type';
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return 'assertion is not a JWT';
    const [h, p, sig] = parts;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as {
      alg?: string;
      kid?: string;
    };
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const sa = this.#accounts.get(String(claims.iss));
    if (!sa) return 'unknown service account';
    if (header.alg !== 'RS256' || header.kid !== sa.private_key_id) return 'bad alg or kid';
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${h}.${p}`);
    if (!verifier.verify(createPublicKey(sa.private_key), Buffer.from(sig, 'base64url')))
      return 'bad signature';
    const now = Date.now() / 1000;
    if (claims.aud !== this.tokenUrl) return 'wrong audience';
    if (
      typeof claims.exp !== 'number' ||
      claims.exp < now ||
      claims.exp - Number(claims.iat) > 3600
    )
      return 'bad lifetime';
    if (claims.scope !== 'https://www.googleapis.com/auth/cloud-platform') return 'bad scope';
    return undefined;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return this;
  }

  close(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }
}
