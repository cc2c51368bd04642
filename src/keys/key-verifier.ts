import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import type { SecretValue } from '../common/secret-value';
import type { KeyParams } from '../providers/key-params';
import type { ProviderRecord } from '../providers/provider.schema';
import { buildUpstreamHeaders } from '../upstream/upstream-headers';
import { buildUpstreamUrl } from '../upstream/upstream-url';
import { UpstreamClient } from '../upstream/upstream.client';

const VERIFY_TIMEOUT_MS = 20_000;

/** Asks a provider whether a key works, with the provider's own `verify` request. */
@Injectable()
export class KeyVerifier {
  constructor(private readonly upstream: UpstreamClient) {}

  /** Returns the provider's HTTP status; throws upstream_unavailable when it cannot be reached. */
  async check(
    provider: ProviderRecord,
    key: SecretValue,
    params: KeyParams | null,
  ): Promise<number> {
    const { method, path, body, baseUrl } = provider.verify;
    const q = path.indexOf('?');
    const json = body !== undefined;
    let res;
    try {
      res = await this.upstream.send({
        provider,
        key,
        params,
        method,
        url: buildUpstreamUrl(
          { ...provider, baseUrl: baseUrl ?? provider.baseUrl },
          (q < 0 ? path : path.slice(0, q)).replace(/^\/+/, ''),
          q < 0 ? '' : path.slice(q),
        ),
        headers: buildUpstreamHeaders(
          { accept: 'application/json', ...(json ? { 'content-type': 'application/json' } : {}) },
          provider,
        ),
        body: json ? Buffer.from(JSON.stringify(body)) : undefined,
        timeoutMs: VERIFY_TIMEOUT_MS,
        onFailure: "the key's status is unchanged",
      });
    } catch (e) {
      // A token endpoint refusing a service account is the provider refusing the key.
      if (e instanceof AppError && e.code === 'provider_key_rejected') return 401;
      throw e;
    }
    await res.body.dump();
    return res.statusCode;
  }
}
