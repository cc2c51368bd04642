import { inspect } from 'node:util';

/**
 * A raw provider key in transit. It prints as `[redacted]` everywhere (String(), JSON,
 * util.inspect, template literals) so that a stray log or error cannot leak it; only
 * `reveal()` gives the value, and only the secret stores and the upstream client call it.
 */
export class SecretValue {
  readonly #value: string;
  readonly #hidden = new Set<string>();

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /**
   * Every string that must never be shown for this credential: the value itself, the secret
   * parts of a JSON credential (an AWS secret key, a PEM private key) and the access tokens
   * minted from it. Responses and messages are scrubbed of all of them.
   */
  get parts(): readonly string[] {
    return [this.#value, ...this.#hidden];
  }

  /** Adds a part to hide (see parts); the credential kinds call it as they use the value. */
  hide(part: string): void {
    if (part) this.#hidden.add(part);
  }

  /** "…abcd": the last four characters, the only part of a key that is ever shown. */
  get hint(): string {
    return keyHint(this.#value);
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}

export function keyHint(raw: string): string {
  return `…${raw.slice(-4)}`;
}
