import type { SecretValue } from '../common/secret-value';

export const SECRET_STORE = Symbol('SECRET_STORE');

export type OwnerType = 'user' | 'org';

/** Where one stored key's secret lives; the key id is the metadata row's id. */
export interface SecretRef {
  ownerType: OwnerType;
  ownerId: string;
  keyId: string;
}

export interface SecretStore {
  readonly kind: 'vault' | 'local';
  /** Writes a new version; returns its number (1 for a new secret). */
  put(ref: SecretRef, value: SecretValue): Promise<{ version: number }>;
  /** Reads one version (the latest when omitted). Throws when it does not exist. */
  get(ref: SecretRef, version?: number): Promise<SecretValue>;
  /** Destroys every version and, in Vault, the metadata. Succeeds when nothing is there. */
  destroy(ref: SecretRef): Promise<void>;
  /** Destroys one version only: undoes a put whose metadata write failed. */
  destroyVersion(ref: SecretRef, version: number): Promise<void>;
  /** Throws with a reason when the store cannot serve (readiness). */
  ping(): Promise<void>;
  /** Stops background work (Vault token renewal). */
  close?(): void;
}
