import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The local stand-in for every provider (the outside world in e2e tests and benchmarks): one
 * `node:http` server on 127.0.0.1 speaking just enough OpenAI and Anthropic to satisfy the
 * official SDKs. Point every provider's `<ID>_BASE_URL` at `double.url`.
 *
 * Order of decision for each request: per-key rules (`rejectKey`, `rateLimitKey`, as a real
 * provider checks auth first), then one-shot `nextResponse` handlers, then `on` handlers (first
 * registered first), then the defaults below.
 */

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as a JSON object, when it is one. */
  json: Record<string, unknown> | undefined;
  /** The key it carried, whatever the auth style (see keyOf). */
  key: string | undefined;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface DoubleOptions {
  /** Completion text; streamed one word per chunk. */
  reply: string;
  chunkDelayMs: number;
  models: string[];
}

const defaults = (): DoubleOptions => ({
  reply: 'Hello from the upstream double',
  chunkDelayMs: 0,
  models: ['double-small', 'double-large'],
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const NOW = 1_700_000_000;

/** The key of a request in any provider auth style. */
export function keyOf(req: { headers: IncomingHttpHeaders }): string | undefined {
  const h = req.headers;
  const bearer = /^Bearer\s+(.+)$/i.exec(h.authorization ?? '')?.[1];
  const plain = (v: string | string[] | undefined): string | undefined =>
    Array.isArray(v) ? v[0] : v;
  return bearer ?? plain(h['x-api-key']) ?? plain(h['api-key']) ?? plain(h['x-goog-api-key']);
}

const isAnthropic = (req: RecordedRequest): boolean =>
  req.path.endsWith('/messages') || req.headers['anthropic-version'] !== undefined;

type Headers = Record<string, string>;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Headers,
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** An error in the shape of the API the request was for (Anthropic or OpenAI). */
export function sendError(
  req: RecordedRequest,
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers?: Headers,
): void {
  const code = type === 'authentication_error' ? 'invalid_api_key' : type;
  const error = isAnthropic(req) ? { type, message } : { message, type, param: null, code };
  sendJson(res, status, isAnthropic(req) ? { type: 'error', error } : { error }, headers);
}

/** Sends SSE events with the configured delay; stops quietly once the client has gone. */
async function stream(
  res: ServerResponse,
  events: string[],
  delayMs = 0,
  end = true,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  for (const [i, event] of events.entries()) {
    if (i > 0 && delayMs > 0) await sleep(delayMs);
    if (res.destroyed) return;
    res.write(event);
  }
  if (end) res.end();
}

const sse = (obj: unknown, event?: string): string =>
  `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(obj)}\n\n`;
const usage = (prompt: number, completion: number): object => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

/** OpenAI chat completion chunks, one per word, then a usage chunk (as Cerebras and Groq send). */
export function chatChunks(model: string, words: string[], prompt = 1): string[] {
  const base = { id: 'chatcmpl-double', object: 'chat.completion.chunk', created: NOW, model };
  const chunk = (delta: object, finish_reason: string | null): string =>
    sse({ ...base, choices: [{ index: 0, delta, finish_reason }] });
  return [
    ...words.map((w, i) =>
      chunk(i ? { content: ` ${w}` } : { role: 'assistant', content: w }, null),
    ),
    chunk({}, 'stop'),
    sse({ ...base, choices: [], usage: usage(prompt, words.length) }),
    'data: [DONE]\n\n',
  ];
}

function anthropicEvents(message: Record<string, unknown>, words: string[]): string[] {
  const ev = (type: string, body: object = {}): string => sse({ type, ...body }, type);
  const start = {
    ...message,
    content: [],
    stop_reason: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  };
  return [
    ev('message_start', { message: start }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping'),
    ...words.map((w, i) =>
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: i ? ` ${w}` : w } }),
    ),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: words.length },
    }),
    ev('message_stop'),
  ];
}

/** What a provider answers when nothing is scripted. */
export async function defaultHandler(
  req: RecordedRequest,
  res: ServerResponse,
  o: DoubleOptions,
): Promise<void> {
  const model = typeof req.json?.model === 'string' ? req.json.model : o.models[0];
  const words = o.reply.split(' ');
  const input = req.json?.messages ?? req.json?.input ?? '';
  const prompt = Math.max(1, Math.ceil(JSON.stringify(input).length / 4));
  const streaming = req.json?.stream === true;
  const route = `${req.method} ${req.path}`;

  if (/^GET .*\/models$/.test(route)) {
    // One shape both SDKs accept: OpenAI reads object/created/owned_by, Anthropic the rest.
    const data = o.models.map((id) => ({
      ...{ id, object: 'model', created: NOW, owned_by: 'double' },
      ...{ type: 'model', display_name: id, created_at: '2024-01-01T00:00:00Z' },
    }));
    return sendJson(res, 200, { object: 'list', data, has_more: false });
  }
  if (/^GET .*\/key$/.test(route)) return sendJson(res, 200, { data: { label: 'double' } });
  if (/^POST .*\/chat\/completions$/.test(route)) {
    if (streaming) return stream(res, chatChunks(model, words, prompt), o.chunkDelayMs);
    const choices = [
      { index: 0, message: { role: 'assistant', content: o.reply }, finish_reason: 'stop' },
    ];
    const base = { id: 'chatcmpl-double', object: 'chat.completion', created: NOW, model };
    return sendJson(res, 200, { ...base, choices, usage: usage(prompt, words.length) });
  }
  if (/^POST .*\/embeddings$/.test(route)) {
    const n = Array.isArray(req.json?.input) ? req.json.input.length : 1;
    const data = Array.from({ length: n }, (_, index) => ({
      ...{ object: 'embedding', index, embedding: [0.1, 0.2, 0.3] },
    }));
    return sendJson(res, 200, { object: 'list', data, model, usage: usage(prompt, 0) });
  }
  if (/^POST .*\/messages$/.test(route)) {
    const message = { id: 'msg_double', type: 'message', role: 'assistant', model };
    if (streaming) return stream(res, anthropicEvents(message, words), o.chunkDelayMs);
    return sendJson(res, 200, {
      ...message,
      content: [{ type: 'text', text: o.reply }],
      ...{ stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: prompt, output_tokens: words.length },
    });
  }
  sendError(req, res, 404, 'not_found_error', `The double has no route for ${route}`);
}

/** JSON text as an encoder that escapes every `/` as `\/` writes it. */
export const escapeSlashes = (json: string): string => json.replaceAll('/', '\\/');

const PARTIAL = chatChunks('double-small', ['partial', 'answer', 'never', 'finished']);

/** Ready-made scripted behaviours for `nextResponse` and `on`. */
export const respond = {
  status(status: number, message = `Upstream says ${status}`): Handler {
    const type = status >= 500 ? 'api_error' : 'invalid_request_error';
    return (req, res) => sendError(req, res, status, type, message);
  },
  /** A careless provider that echoes the key it received, in full, in its error message. */
  echoKey(status = 401): Handler {
    return (req, res) =>
      sendError(req, res, status, 'authentication_error', `Bad API key: ${req.key ?? ''}`);
  },
  /** One SSE event carrying the received key, written in two parts split inside the key. */
  echoKeyInStream(): Handler {
    return async (req, res) => {
      const key = req.key ?? '';
      const [event, ...rest] = chatChunks('double-small', [`Your key is ${key}`]);
      const cut = event.indexOf(key) + Math.floor(key.length / 2);
      await stream(res, [event.slice(0, cut), event.slice(cut), ...rest], 20);
    };
  },
  /**
   * echoKey from a JSON encoder that escapes `/` as `\/` (PHP's json_encode does by default):
   * a key with a slash reaches the proxy spelled differently from the key it sent.
   */
  echoKeySlashEscaped(status = 400): Handler {
    return (req, res) => {
      const message = `Bad API key: ${req.key ?? ''}`;
      const error = { message, type: 'invalid_request_error', param: null, code: 'bad_key' };
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(escapeSlashes(JSON.stringify({ error })));
    };
  },
  /** echoKeyInStream with `/` escaped as `\/`, the event split inside the escaped key. */
  echoKeyInStreamSlashEscaped(): Handler {
    return async (req, res) => {
      const [event, ...rest] = chatChunks('double-small', [`Your key is ${req.key ?? ''}`]);
      const escaped = escapeSlashes(event);
      const spelled = escapeSlashes(JSON.stringify(req.key ?? '').slice(1, -1));
      const cut = escaped.indexOf(spelled) + Math.floor(spelled.length / 2);
      await stream(res, [escaped.slice(0, cut), escaped.slice(cut), ...rest], 20);
    };
  },
  /** Never sends headers (UPSTREAM_TIMEOUT_MS before the response). */
  stallHeaders(): Handler {
    return () => new Promise<void>(() => undefined);
  },
  /** Sends headers and `chunks` chunks, then nothing more (the timeout between chunks). */
  stallMidStream(chunks = 2): Handler {
    return (_req, res) => stream(res, PARTIAL.slice(0, chunks), 0, false);
  },
  /** Sends headers and `chunks` chunks, then destroys the connection. */
  dropMidStream(chunks = 2): Handler {
    return async (_req, res) => {
      await stream(res, PARTIAL.slice(0, chunks), 0, false);
      await sleep(5);
      res.socket?.destroy();
    };
  },
  /** A redirect the proxy must not follow. */
  redirect(location: string, status = 302): Handler {
    return (_req, res) => {
      res.writeHead(status, { location });
      res.end();
    };
  },
};

async function record(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  let json: unknown;
  try {
    json = /json/.test(req.headers['content-type'] ?? '') ? JSON.parse(body.toString()) : undefined;
  } catch {
    json = undefined;
  }
  const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
  const url = req.url ?? '/';
  const [path] = url.split('?');
  const { method = 'GET', headers } = req;
  return {
    method,
    url,
    path,
    headers,
    body,
    json: isObject ? (json as Record<string, unknown>) : undefined,
    key: keyOf(req),
  };
}

export class UpstreamDouble {
  readonly requests: RecordedRequest[] = [];
  options = defaults();
  readonly #rejected = new Set<string>();
  readonly #limited = new Map<string, number>();
  readonly #queue: Handler[] = [];
  readonly #routes: { pattern: string | RegExp; handler: Handler }[] = [];
  readonly #server = createServer((req, res) => {
    this.#handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: { message: `double: ${String(err)}`, type: 'api_error' } });
    });
  });

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections(); // stalled responses included
    return new Promise((resolve, reject) =>
      this.#server.close((err) => (err ? reject(err) : resolve())),
    );
  }

  /** Forget requests, key rules and handlers; restore the default options. */
  reset(): void {
    this.requests.length = this.#queue.length = this.#routes.length = 0;
    this.#rejected.clear();
    this.#limited.clear();
    this.options = defaults();
  }

  /** 401 for every request carrying this key, whatever the auth style. */
  rejectKey(key: string): void {
    this.#rejected.add(key);
  }

  /** 429 with `retry-after` for every request carrying this key. */
  rateLimitKey(key: string, retryAfterSeconds = 1): void {
    this.#limited.set(key, retryAfterSeconds);
  }

  /** Answers the next request (queued: several calls answer several requests). */
  nextResponse(handler: Handler): void {
    this.#queue.push(handler);
  }

  /** Answers every request whose path ends with `pattern` (string) or matches it (RegExp). */
  on(pattern: string | RegExp, handler: Handler): void {
    this.#routes.push({ pattern, handler });
  }

  /** The key of a request in any provider auth style. */
  keyOf(req: { headers: IncomingHttpHeaders }): string | undefined {
    return keyOf(req);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = await record(req);
    this.requests.push(r);
    if (r.key !== undefined && this.#rejected.has(r.key))
      return sendError(r, res, 401, 'authentication_error', 'Incorrect API key provided');
    const retryAfter = r.key === undefined ? undefined : this.#limited.get(r.key);
    if (retryAfter !== undefined)
      return sendError(r, res, 429, 'rate_limit_error', 'Rate limit reached', {
        'retry-after': String(retryAfter),
      });
    const matches = ({ pattern }: { pattern: string | RegExp }): boolean =>
      typeof pattern === 'string' ? r.path.endsWith(pattern) : pattern.test(r.path);
    const scripted = this.#queue.shift() ?? this.#routes.find(matches)?.handler;
    await (scripted ? scripted(r, res) : defaultHandler(r, res, this.options));
  }
}

export function startUpstreamDouble(): Promise<UpstreamDouble> {
  return new UpstreamDouble().listen();
}
