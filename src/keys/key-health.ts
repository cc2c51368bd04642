import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { MetricsService } from '../metrics/metrics.service';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import { KeyResolver, type KeyCandidate } from './key-resolver';
import { KeyVerifier } from './key-verifier';
import { KeyRepository, type Owner } from './key.repository';

/** A key is checked again at most this often, however many 401/403s it collects. */
const CHECK_EVERY_MS = 60_000;
const MAX_TRACKED = 10_000;

/**
 * Decides whether a key the provider refused is itself at fault. A 401 or 403 from some
 * endpoint proves little: admin and scope-restricted endpoints answer 403 to perfectly good
 * keys, so one request by any member could otherwise disable an organisation's key. Only the
 * provider's own verify request marks a key invalid: one check in flight per key, at most one a
 * minute, off the request path, and every status change is audited (`key.invalidated`).
 */
@Injectable()
export class KeyHealth {
  private readonly logger = new Logger(KeyHealth.name);
  private readonly checked = new Map<string, number>();

  constructor(
    private readonly verifier: KeyVerifier,
    private readonly keys: KeyRepository,
    private readonly resolver: KeyResolver,
    private readonly registry: ProviderRegistryService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {}

  /** The provider answered `status` (401/403) to a request with this key: check it. */
  suspect(c: KeyCandidate, status: number): void {
    const id = c.keyId;
    if (!id || c.source === 'env') return;
    const now = Date.now();
    if (now - (this.checked.get(id) ?? 0) < CHECK_EVERY_MS) return;
    if (this.checked.size >= MAX_TRACKED) this.checked.clear();
    this.checked.set(id, now);
    void this.check(c, { ownerType: c.source, ownerId: c.ownerId, id }, status);
  }

  /** Resolves when the check is done; never rejects. */
  private async check(c: KeyCandidate, key: Owner & { id: string }, answered: number) {
    try {
      const provider = this.registry.require(c.provider);
      const verified = await this.verifier.check(provider, await c.secret(), c.params ?? null);
      if (verified !== 401 && verified !== 403) return;
      await this.keys.update(key.id, { invalid: true, updatedAt: new Date() });
      this.resolver.invalidate(key);
      this.metrics.keyInvalidated(c.provider, c.source);
      this.audit.record({
        action: 'key.invalidated',
        actor: null,
        key: { ...key, keyHint: c.hint, provider: c.provider },
        detail: { providerStatus: verified, requestStatus: answered },
      });
      this.logger.warn(
        `${c.provider} refused ${c.source} key ${c.hint} on its verify request (HTTP ${verified}): marked invalid`,
      );
    } catch (e) {
      this.logger.warn(`Could not check ${c.source} key ${c.hint}: ${(e as Error).message}`);
    }
  }
}
