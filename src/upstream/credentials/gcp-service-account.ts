import { createPrivateKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Dispatcher } from 'undici';
import { AppError } from '../../common/errors/app-error';
import type { SecretValue } from '../../common/secret-value';
import type { ProviderRecord } from '../../providers/provider.schema';
import { upstreamUnavailable } from '../upstream-error';

/** The fields of a Google service-account key file the proxy uses. */
export interface ServiceAccount {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const EMAIL = /^[^\s@]{1,128}@[a-z0-9.-]{1,200}$/i;
/** Refresh this long before a token expires, so no request leaves with one about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const parsed = new WeakMap<SecretValue, ServiceAccount>();

/**
 * Checks a service-account key document and returns it, or the problems (field names only).
 * The key file's `token_uri` must be the provider's token endpoint: a stored key must never be
 * able to send the proxy, with a signed assertion, to a host the operator did not configure.
 */
export function readServiceAccount(
  doc: Record<string, unknown>,
  tokenUrl: string | undefined,
): ServiceAccount | string[] {
  const problems: string[] = [];
  if (doc.type !== 'service_account')
    problems.push('credential.type must be "service_account" (a service-account key file)');
  if (typeof doc.client_email !== 'string' || !EMAIL.test(doc.client_email))
    problems.push('credential.client_email must be the service account e-mail');
  if (typeof doc.private_key !== 'string' || !doc.private_key.includes('PRIVATE KEY'))
    problems.push('credential.private_key must be the PEM private key from the key file');
  else
    try {
      if (createPrivateKey(doc.private_key).asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    } catch {
      problems.push('credential.private_key is not a readable RSA private key');
    }
  if (doc.token_uri !== undefined && doc.token_uri !== tokenUrl)
    problems.push(
      `credential.token_uri must be ${tokenUrl} (the token endpoint the operator configured), got ${JSON.stringify(doc.token_uri)}`,
    );
  for (const k of ['private_key_id', 'project_id'] as const)
    if (
      doc[k] !== undefined &&
      (typeof doc[k] !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(doc[k]))
    )
      problems.push(`credential.${k} must be a short string`);
  if (problems.length) return problems;
  // Only the fields used are kept: the rest of a key file (auth_provider_x509_cert_url, …) is noise.
  const keep = ['type', 'client_email', 'private_key', 'private_key_id', 'project_id', 'token_uri'];
  return Object.fromEntries(
    keep.filter((k) => doc[k] !== undefined).map((k) => [k, doc[k]]),
  ) as unknown as ServiceAccount;
}

/** `…abcd` of the private key id (or of the e-mail): never part of the private key. */
export const serviceAccountHint = (sa: ServiceAccount): string =>
  `…${(sa.private_key_id ?? sa.client_email).slice(-4)}`;

/** The stored service account of a key; its private key (in every line) is hidden from then on. */
export function serviceAccountOf(secret: SecretValue): ServiceAccount {
  let sa = parsed.get(secret);
  if (!sa) {
    sa = JSON.parse(secret.reveal()) as ServiceAccount;
    secret.hide(sa.private_key);
    // A PEM echoed line by line, or re-wrapped: every base64 line is hidden on its own too.
    for (const line of sa.private_key.split(/\r?\n/)) if (line.length >= 32) secret.hide(line);
    parsed.set(secret, sa);
  }
  return sa;
}

interface CachedToken {
  token: string;
  refreshAt: number;
}

/**
 * Mints OAuth access tokens from service-account keys (the JWT-bearer grant, RFC 7523): an
 * RS256 assertion signed with the key, posted to the provider's token endpoint. Tokens are
 * cached per credential until shortly before they expire, and concurrent requests share one
 * exchange. Tokens and assertions are never logged, and every token is hidden like the key.
 *
 * Not google-auth-library: its JWT client (v11) always posts to https://oauth2.googleapis.com/token
 * with that URL as the audience, ignoring the key file's `token_uri`, so it could reach the
 * operator's token endpoint (`<ID>_TOKEN_URL`, a test double) only by rewriting its requests.
 */
export class GcpTokenMinter {
  private readonly cache = new WeakMap<SecretValue, CachedToken>();
  private readonly pending = new WeakMap<SecretValue, Promise<string>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly timeoutMs: number,
  ) {}

  async token(provider: ProviderRecord, secret: SecretValue): Promise<string> {
    const cached = this.cache.get(secret);
    if (cached && Date.now() < cached.refreshAt) return cached.token;
    let minting = this.pending.get(secret);
    if (!minting) {
      minting = this.mint(provider, secret).finally(() => this.pending.delete(secret));
      this.pending.set(secret, minting);
    }
    return minting;
  }

  private async mint(provider: ProviderRecord, secret: SecretValue): Promise<string> {
    const sa = serviceAccountOf(secret);
    const tokenUrl = provider.tokenUrl!;
    const now = Math.floor(Date.now() / 1000);
    const assertion = jwt.sign(
      {
        iss: sa.client_email,
        sub: sa.client_email,
        scope: SCOPE,
        aud: tokenUrl,
        iat: now,
        exp: now + 3600,
      },
      sa.private_key,
      { algorithm: 'RS256', ...(sa.private_key_id ? { keyid: sa.private_key_id } : {}) },
    );
    const url = new URL(tokenUrl);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
        }).toString(),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (e) {
      throw upstreamUnavailable(
        e,
        (reason) =>
          `${provider.name}'s token endpoint could not be reached (${reason}); try again later`,
      );
    }
    const status = res.statusCode;
    const body = (await res.body.json().catch(() => undefined)) as
      { access_token?: unknown; expires_in?: unknown } | undefined;
    if (status === 400 || status === 401 || status === 403)
      // Google answers invalid_grant (400) for a deleted, disabled or mis-signed key.
      throw new AppError(
        'provider_key_rejected',
        `${provider.name}'s token endpoint refused the service account ${sa.client_email} (HTTP ${status}): check that the key is still active, or rotate it`,
        { status: 401 },
      );
    const token = body?.access_token;
    if (status < 200 || status >= 300 || typeof token !== 'string' || !token)
      throw new AppError(
        'upstream_unavailable',
        `${provider.name}'s token endpoint answered HTTP ${status} without an access token; try again later`,
      );
    secret.hide(token);
    const lifetimeMs = (typeof body?.expires_in === 'number' ? body.expires_in : 3600) * 1000;
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
    this.cache.set(secret, { token, refreshAt: Date.now() + lifetimeMs - margin });
    return token;
  }
}
