import Anthropic from '@anthropic-ai/sdk';
import Cerebras from '@cerebras/cerebras_cloud_sdk';
import OpenAI from 'openai';
import { isEventStream, openAiErrorEvent } from '../../../src/proxy/sse';

type CerebrasFetch = NonNullable<NonNullable<ConstructorParameters<typeof Cerebras>[0]>['fetch']>;

// What a mid-stream failure looks like to each official SDK: the bytes go through its real
// SSE parser via a custom fetch, no server involved.
function sseFetch(...chunks: (string | Buffer)[]): () => Promise<Response> {
  return () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks)
          c.enqueue(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        c.close();
      },
    });
    return Promise.resolve(
      new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    );
  };
}

async function drain(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const seen: unknown[] = [];
  for await (const event of stream) seen.push(event);
  return seen;
}

const chunk = (content: string): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const failure = openAiErrorEvent('upstream_unavailable', 'Upstream failed mid-stream', 'api_error');

describe('openAiErrorEvent', () => {
  it('is a named SSE event carrying the OpenAI error envelope', () => {
    const text = failure.toString();
    expect(text.startsWith('\n\nevent: error\ndata: ')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(true);
    const data = JSON.parse(text.trim().split('\n')[1].slice('data: '.length));
    expect(data).toEqual({
      type: 'error',
      error: {
        message: 'Upstream failed mid-stream',
        type: 'api_error',
        code: 'upstream_unavailable',
      },
    });
  });

  it('escapes messages so they cannot break the event framing', () => {
    const text = openAiErrorEvent('x', 'line1\n\ndata: [DONE]\n"quoted"', 't').toString();
    expect(text.trim().split('\n')).toHaveLength(2);
  });

  it('makes the openai SDK throw an APIError with our message, code and type after the chunks', async () => {
    const fetch = sseFetch(chunk('Hel'), chunk('lo'), failure);
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://proxy.test/v1',
      fetch,
      maxRetries: 0,
    });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const contents: unknown[] = [];
    const err = await (async () => {
      for await (const event of stream) contents.push(event.choices[0]?.delta.content);
    })().catch((e: unknown) => e);
    expect(contents).toEqual(['Hel', 'lo']);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({
      message: 'Upstream failed mid-stream',
      code: 'upstream_unavailable',
      type: 'api_error',
      status: undefined,
    });
  });

  it('still ends the openai stream with an error when the upstream left an event half-written', async () => {
    const half = chunk('Hel').slice(0, 40);
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://proxy.test/v1',
      fetch: sseFetch(chunk('a'), half, failure),
      maxRetries: 0,
      logger: {
        error: () => undefined,
        warn: () => undefined,
        info: () => undefined,
        debug: () => undefined,
      },
    });
    const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
    await expect(drain(stream)).rejects.toThrow(SyntaxError);
  });

  it('makes the Anthropic SDK throw an APIError of our type', async () => {
    const start = `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } })}\n\n`;
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://proxy.test',
      fetch: sseFetch(start, failure),
      maxRetries: 0,
    });
    const stream = await client.messages.create({
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const err = await drain(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain('Upstream failed mid-stream');
    expect((err as { type?: unknown }).type).toBe('api_error');
  });

  it('makes the Cerebras SDK throw instead of finishing cleanly', async () => {
    const client = new Cerebras({
      apiKey: 'k',
      baseURL: 'http://proxy.test',
      // Its types name node-fetch's Response; at run time it uses the global fetch's.
      fetch: sseFetch(chunk('a'), failure) as unknown as CerebrasFetch,
      maxRetries: 0,
      warmTCPConnection: false,
    });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    await expect(drain(stream as AsyncIterable<unknown>)).rejects.toThrow();
  });

  it('shows that a bare `data: {"error": …}` event would be silently skipped by the Anthropic SDK', async () => {
    const bare = `data: ${JSON.stringify({ error: { message: 'x', type: 'api_error' } })}\n\n`;
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://proxy.test',
      fetch: sseFetch(bare),
      maxRetries: 0,
    });
    const stream = await client.messages.create({
      model: 'm',
      max_tokens: 10,
      messages: [],
      stream: true,
    });
    await expect(drain(stream)).resolves.toEqual([]);
  });
});

describe('isEventStream', () => {
  it.each([
    ['text/event-stream', true],
    ['Text/Event-Stream; charset=utf-8', true],
    [' text/event-stream ', true],
    [['text/event-stream'], true],
    ['application/json', false],
    ['text/event-streamx', false],
    ['', false],
    [undefined, false],
  ])('%j → %s', (value, want) => expect(isEventStream(value)).toBe(want));
});
