import type { IncomingHttpHeaders } from 'node:http';
import type { GenAiOperation } from '../metrics/labels';
import type { ProviderRecord } from '../providers/provider.schema';

/** A proxied request as it arrived: the body read whole, raw bytes (undefined when empty). */
export interface ProxyRequest {
  method: string;
  /** The request target as sent: path and query, still percent-encoded. */
  url: string;
  headers: IncomingHttpHeaders;
  body?: Buffer;
}

/** Where one proxied request goes, decided before any key is touched. */
export interface ProxyTarget {
  provider: ProviderRecord;
  /** Absolute upstream URL on the provider's own origin (checked by buildUpstreamUrl). */
  url: string;
  method: string;
  body?: Buffer;
  /** Whether the body is JSON (by its content type). */
  json: boolean;
  /** The model as sent upstream (prefix stripped), when the body names one. */
  model?: string;
  /** OpenTelemetry GenAI operation name (chat, embeddings, …), or `other`: never the path. */
  operation: GenAiOperation;
  /**
   * A chat stream whose usage the proxy asked for itself (`stream_options.include_usage`): the
   * usage-only chunk is counted, then taken out of what the client receives.
   */
  hideUsageChunk: boolean;
  /** `GET /v1/models`: merged across providers, not forwarded. */
  listModels: boolean;
}

/** Leading path segments that are only a version or an API prefix (`v1`, `v1beta`, `openai`, `api`). */
const PREFIX = /^(v\d+(alpha\d*|beta\d*)?|openai|api)$/i;

const BY_PATH: Record<string, GenAiOperation> = {
  'chat/completions': 'chat',
  completions: 'text_completion',
  complete: 'text_completion',
  embeddings: 'embeddings',
  responses: 'chat',
  messages: 'chat',
  models: 'models',
  'images/generations': 'images',
  'images/edits': 'images',
  'images/variations': 'images',
  'audio/speech': 'audio',
  'audio/transcriptions': 'audio',
  'audio/translations': 'audio',
  moderations: 'moderations',
};

/** Gemini's native `models/{model}:{method}` calls. */
const BY_METHOD: Record<string, GenAiOperation> = {
  generateContent: 'generate_content',
  streamGenerateContent: 'generate_content',
  embedContent: 'embeddings',
  batchEmbedContents: 'embeddings',
};

/** Bedrock's runtime calls on a model: `model/{modelId}/{action}`. */
const BEDROCK_ACTIONS: Record<string, GenAiOperation> = {
  converse: 'chat',
  'converse-stream': 'chat',
};
const BEDROCK_INVOKE = new Set(['invoke', 'invoke-with-response-stream']);

const segmentsOf = (path: string): string[] => path.split('?')[0].split('/').filter(Boolean);

/**
 * The GenAI operation for a request path (`/v1/chat/completions` → chat,
 * `/v1beta/models/gemini-2.0-flash:generateContent` → generate_content,
 * `model/{id}/converse` → chat), always one of GENAI_OPERATIONS: a path nobody mapped is `other`,
 * never the path itself, since callers choose paths and the operation is a metric label and a
 * usage column. `body` tells Bedrock's InvokeModel apart: each model family has its own body
 * there, and one with `messages` (Anthropic's Messages API, and those that copy it) is a chat.
 */
export function operationOf(path: string, body?: Buffer): GenAiOperation {
  const segments = segmentsOf(path);
  if (segments.length === 3 && segments[0] === 'model') {
    const action = segments[2];
    if (Object.hasOwn(BEDROCK_ACTIONS, action)) return BEDROCK_ACTIONS[action];
    return BEDROCK_INVOKE.has(action) && body?.includes('"messages"') ? 'chat' : 'other';
  }
  while (segments.length > 1 && PREFIX.test(segments[0])) segments.shift();
  const last = segments[segments.length - 1] ?? '';
  const colon = last.indexOf(':');
  if (colon >= 0) {
    const method = last.slice(colon + 1);
    return Object.hasOwn(BY_METHOD, method) ? BY_METHOD[method] : 'other';
  }
  const p = segments.join('/');
  if (Object.hasOwn(BY_PATH, p)) return BY_PATH[p];
  return segments[0] === 'models' && segments.length === 2 ? 'models' : 'other';
}

/**
 * The model a native path names, for usage and metrics when the body names none: Bedrock's
 * `model/{modelId}/…` (percent-decoded: `anthropic.claude-3-haiku-20240307-v1:0`, or an ARN) and
 * Gemini's and Vertex's `…/models/{model}:{method}`.
 */
export function modelInPath(path: string): string | undefined {
  const segments = segmentsOf(path);
  if (segments.length === 3 && segments[0] === 'model') {
    try {
      return decodeURIComponent(segments[1]);
    } catch {
      return undefined;
    }
  }
  const last = segments[segments.length - 1] ?? '';
  const colon = last.indexOf(':');
  return colon > 0 && segments[segments.length - 2] === 'models' ? last.slice(0, colon) : undefined;
}
