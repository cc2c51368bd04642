/** A recorded HTTP exchange, so tests can prove what ever reached a client. */
export interface Exchange {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: unknown;
}

/**
 * A small fetch client for the app's API that records every response (status, headers, body)
 * in `seen`, for the "no raw key in any response" checks.
 */
export class ApiClient {
  readonly seen: Exchange[] = [];

  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  as(token: string | undefined): ApiClient {
    const c = new ApiClient(this.baseUrl, token);
    // Shares the record, so a whole test run can be checked at once.
    (c as { seen: Exchange[] }).seen = this.seen;
    return c;
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Exchange> {
    const h: Record<string, string> = { ...headers };
    if (this.token && !('authorization' in h)) h.authorization = `Bearer ${this.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + path, { method, headers: h, body: payload });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const ex: Exchange = {
      status: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      text,
      json,
    };
    this.seen.push(ex);
    return ex;
  }

  get = (path: string, headers?: Record<string, string>) =>
    this.call('GET', path, undefined, headers);
  post = (path: string, body?: unknown, headers?: Record<string, string>) =>
    this.call('POST', path, body, headers);
  patch = (path: string, body?: unknown) => this.call('PATCH', path, body);
  delete = (path: string) => this.call('DELETE', path);
}

/** Environment that points every built-in provider at the upstream double. */
export function providersAt(url: string): Record<string, string> {
  const ids =
    'cerebras openai anthropic groq mistral openrouter together deepseek xai gemini azure-openai bedrock vertex';
  return Object.fromEntries(
    ids.split(' ').map((id) => [`${id.toUpperCase().replace(/-/g, '_')}_BASE_URL`, url]),
  );
}
