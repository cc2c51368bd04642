import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';
import { escapeSlashes, respond } from '../helpers/upstream-double';

/**
 * A provider whose JSON encoder escapes `/` as `\/` echoes a key containing `/` in a spelling
 * that is not the key's bytes; the client must still never see it. The same for the operator's
 * env key, which no DTO checks and which may even hold `"`.
 */

const USER_KEY = 'sk-or-v1/trust/scrub/AbCd/0123456789-wxyz';
const ENV_KEY = 'op-env/key"with\\quote/0123456789-qrst';

/** Every way the key could appear in a body: raw, JSON-escaped, and with `/` as `\/`. */
const spellings = (key: string): string[] => {
  const json = JSON.stringify(key).slice(1, -1);
  return [key, json, escapeSlashes(json), key.slice(0, 20), escapeSlashes(json).slice(0, 24)];
};

describe.each(STORE_MODES)('a key echoed JSON-escaped never reaches the client: $name', (mode) => {
  let stack: Stack | undefined;
  let api: ApiClient;

  beforeAll(async () => {
    // OpenAI takes the operator's key for callers without one of their own.
    stack = await startStack({ mode, env: { OPENAI_API_KEY: ENV_KEY } });
    api = new ApiClient(stack.url, testJwt('alice'));
    const saved = await api.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'slashes',
      apiKey: USER_KEY,
    });
    expect(saved.status).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
  });

  beforeEach(() => stack?.double.reset());

  const chat = (provider: string, stream = false) =>
    api.post('/v1/chat/completions', {
      model: `${provider}/double-small`,
      messages: [{ role: 'user', content: 'hi' }],
      stream,
    });

  it('in an error body, from a saved key with "/"', async () => {
    stack!.double.nextResponse(respond.echoKeySlashEscaped(400));
    const res = await chat('cerebras');
    expect(res.status).toBe(400);
    // The double did echo it, escaped.
    expect(stack!.double.requests.at(-1)?.key).toBe(USER_KEY);
    expect(res.text).toContain('Bad API key: …wxyz');
    for (const s of spellings(USER_KEY)) expect(res.text).not.toContain(s);
  });

  it('in a stream, split inside the escaped key', async () => {
    stack!.double.nextResponse(respond.echoKeyInStreamSlashEscaped());
    const res = await chat('cerebras', true);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Your key is …wxyz');
    for (const s of spellings(USER_KEY)) expect(res.text).not.toContain(s);
  });

  it('in an error body and a stream, from the operator\'s env key with " and "/"', async () => {
    stack!.double.nextResponse(respond.echoKeySlashEscaped(400));
    const res = await chat('openai');
    expect(res.status).toBe(400);
    expect(res.headers['x-byok-key-source']).toBe('env');
    expect(stack!.double.requests.at(-1)?.key).toBe(ENV_KEY);
    for (const s of spellings(ENV_KEY)) expect(res.text).not.toContain(s);

    stack!.double.nextResponse(respond.echoKeyInStreamSlashEscaped());
    const streamed = await chat('openai', true);
    expect(streamed.text).toContain('Your key is …');
    for (const s of spellings(ENV_KEY)) expect(streamed.text).not.toContain(s);
  });

  it('nor in the logs', () => {
    const logs = stack!.app.logs.join('');
    for (const key of [USER_KEY, ENV_KEY])
      for (const s of spellings(key)) expect(logs).not.toContain(s);
  });
});
