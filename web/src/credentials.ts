import type { Provider } from './api';
import { h } from './dom';

/**
 * The credential fields of a provider's kind, for the add-key and rotate forms: one secret field
 * for header and Azure keys, the AWS key pair for sigv4, the key file for a Google service
 * account, and an input per non-secret parameter (region, resource, base URL, …).
 */

const LABELS: Record<string, [string, string]> = {
  resource: ['Azure resource name', 'my-openai'],
  apiVersion: ['API version', '2024-10-21'],
  region: ['AWS region', 'us-east-1'],
  project: ['Google Cloud project (default: from the key file)', 'my-project'],
  location: ['Vertex AI location', 'us-central1'],
  baseUrl: ['Server base URL (without /v1)', 'http://vllm.internal:8000'],
};

/** Parameters with a server-side default may be left empty. */
const OPTIONAL = new Set(['apiVersion', 'project', 'location']);

export interface CredentialFields {
  nodes: Node[];
  /** The body fields to send: `apiKey` or `credential`, and `params` when the kind has any. */
  read(): Record<string, unknown>;
  clear(): void;
}

const secretInput = (id: string): HTMLInputElement =>
  h('input', { id, type: 'password', autocomplete: 'off', spellcheck: 'false' });

function field(id: string, label: string, input: HTMLElement): Node[] {
  return [h('label', { for: id }, label), input];
}

export interface FieldOptions {
  /** Keeps ids unique between the add and rotate forms. */
  prefix: string;
  /** Id and label of the one secret field of header and Azure kinds. */
  keyId: string;
  keyLabel: string;
  /** Whether to ask for the parameters (not on rotate: the key keeps its own). */
  params: boolean;
}

export function credentialFields(
  provider: Provider | undefined,
  { prefix, keyId, keyLabel, params: withParams }: FieldOptions,
): CredentialFields {
  const auth = provider?.auth ?? 'bearer';
  const nodes: Node[] = [];
  const secrets: (HTMLInputElement | HTMLTextAreaElement)[] = [];
  let readSecret: () => Record<string, unknown>;

  if (auth === 'sigv4') {
    const [id, secret, session] = ['access-key-id', 'secret-access-key', 'session-token'].map((s) =>
      secretInput(`${prefix}-${s}`),
    );
    id.type = 'text';
    nodes.push(
      ...field(id.id, 'Access key ID', id),
      ...field(secret.id, 'Secret access key', secret),
      ...field(session.id, 'Session token (temporary credentials only)', session),
    );
    secrets.push(id, secret, session);
    readSecret = () => {
      if (!id.value.trim() || !secret.value.trim())
        throw new Error('Enter the access key ID and the secret access key.');
      const credential: Record<string, string> = {
        accessKeyId: id.value.trim(),
        secretAccessKey: secret.value.trim(),
      };
      if (session.value.trim()) credential.sessionToken = session.value.trim();
      return { credential };
    };
  } else if (auth === 'gcp-service-account') {
    const file = h('textarea', { id: `${prefix}-key-file`, rows: 4, spellcheck: 'false' });
    nodes.push(...field(file.id, 'Service-account key file (paste the JSON)', file));
    secrets.push(file);
    readSecret = () => {
      try {
        return { credential: JSON.parse(file.value) as unknown };
      } catch {
        throw new Error('Paste the whole service-account key file: it is JSON.');
      }
    };
  } else {
    const key = secretInput(keyId);
    nodes.push(...field(key.id, keyLabel, key));
    secrets.push(key);
    readSecret = () => {
      if (!key.value.trim()) throw new Error('Enter the API key to save.');
      return { apiKey: key.value.trim() };
    };
  }

  const params = withParams ? (provider?.params ?? []) : [];
  const inputs = params.map((name) => {
    const [label, example] = LABELS[name] ?? [name, ''];
    const input = h('input', { id: `${prefix}-param-${name}`, placeholder: example });
    nodes.push(...field(input.id, label, input));
    return [name, input] as const;
  });

  return {
    nodes,
    read() {
      const body = readSecret();
      if (!inputs.length) return body;
      const values: Record<string, string> = {};
      for (const [name, input] of inputs) {
        const value = input.value.trim();
        if (value) values[name] = value;
        else if (!OPTIONAL.has(name)) throw new Error(`Enter the ${LABELS[name]?.[0] ?? name}.`);
      }
      return { ...body, params: values };
    },
    clear() {
      for (const s of secrets) s.value = '';
    },
  };
}

/** The parameters a key carries, for its row: `us-west-2`, `my-openai · 2024-10-21`. */
export const paramsText = (params: Record<string, string> | null | undefined): string =>
  params ? Object.values(params).join(' · ') : '';
