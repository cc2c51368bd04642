import type { ProviderRecord } from '../providers/provider.schema';

/** Where one proxied request goes, decided before any key is touched. */
export interface ProxyTarget {
  provider: ProviderRecord;
  /** Absolute upstream URL on the provider's own origin (checked by buildUpstreamUrl). */
  url: string;
  method: string;
  body?: Buffer;
  /** The model as sent upstream (prefix stripped), when the body names one. */
  model?: string;
  /** OpenTelemetry GenAI operation name: chat, text_completion, embeddings, or the path. */
  operation: string;
  /** `GET /v1/models`: merged across providers, not forwarded. */
  listModels: boolean;
}

const OPERATIONS: Record<string, string> = {
  'chat/completions': 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  responses: 'chat',
  messages: 'chat',
};

/** The GenAI operation for a request path (`/v1/chat/completions` → chat). */
export function operationOf(path: string): string {
  const p = path.replace(/^\/+/, '').replace(/^v1\//, '').split('?')[0];
  return OPERATIONS[p] ?? p;
}
