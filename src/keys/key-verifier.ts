import { Inject, Injectable } from '@nestjs/common';
import { request } from 'undici';
import { AppError } from '../common/errors/app-error';
import type { SecretValue } from '../common/secret-value';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { providerAuthHeader } from '../providers/provider-auth';
import type { ProviderRecord } from '../providers/provider.schema';

/** Asks a provider whether a key works, with the provider's own `verify` request. */
@Injectable()
export class KeyVerifier {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Returns the provider's HTTP status; throws upstream_unavailable when it cannot be reached. */
  async check(provider: ProviderRecord, key: SecretValue): Promise<number> {
    const [name, value] = providerAuthHeader(provider, key);
    const url = provider.baseUrl.replace(/\/+$/, '') + provider.verify.path;
    try {
      const res = await request(url, {
        method: provider.verify.method,
        headers: {
          ...provider.headers,
          accept: 'application/json',
          'accept-encoding': 'identity',
          ...(provider.verify.body !== undefined ? { 'content-type': 'application/json' } : {}),
          [name]: value,
        },
        body: provider.verify.body !== undefined ? JSON.stringify(provider.verify.body) : undefined,
        headersTimeout: this.config.upstream.connectTimeoutMs + 20000,
        bodyTimeout: 20000,
      });
      await res.body.dump();
      return res.statusCode;
    } catch (e) {
      const reason = (e as { code?: string }).code ?? (e as Error).name;
      throw new AppError(
        'upstream_unavailable',
        `Could not reach ${provider.id} to verify the key (${reason}); the key's status is unchanged`,
        { status: reason === 'UND_ERR_HEADERS_TIMEOUT' ? 504 : 502 },
      );
    }
  }
}
