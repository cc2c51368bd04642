import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { SecretValue } from '../common/secret-value';
import type { SecretRef, SecretStore } from '../secret-store/secret-store.port';

/**
 * A secret store whose calls made inside a traced request are spans (`secret_store put`, …),
 * so a slow key save shows whether Vault or the database took the time. The span names the
 * store and the operation only: no reference, no value, no error message.
 */
export class TracedSecretStore implements SecretStore {
  readonly kind: SecretStore['kind'];

  constructor(
    private readonly inner: SecretStore,
    private readonly tracer: Tracer,
  ) {
    this.kind = inner.kind;
  }

  put(ref: SecretRef, value: SecretValue): Promise<{ version: number }> {
    return this.traced('put', () => this.inner.put(ref, value));
  }

  get(ref: SecretRef, version?: number): Promise<SecretValue> {
    return this.traced('get', () => this.inner.get(ref, version));
  }

  destroy(ref: SecretRef): Promise<void> {
    return this.traced('destroy', () => this.inner.destroy(ref));
  }

  destroyVersion(ref: SecretRef, version: number): Promise<void> {
    return this.traced('destroy_version', () => this.inner.destroyVersion(ref, version));
  }

  /** Readiness probes are not traced: a span per probe would bury the requests. */
  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): void {
    this.inner.close?.();
  }

  private traced<T>(operation: string, call: () => Promise<T>): Promise<T> {
    if (!trace.getSpan(context.active())) return call();
    return this.tracer.startActiveSpan(
      `secret_store ${operation}`,
      {
        kind: this.kind === 'vault' ? SpanKind.CLIENT : SpanKind.INTERNAL,
        attributes: { 'byok.secret_store': this.kind, 'byok.secret_store.operation': operation },
      },
      async (span) => {
        try {
          return await call();
        } catch (e) {
          span.setAttribute('error.type', (e as Error).name || 'Error');
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }
}
