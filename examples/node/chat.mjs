#!/usr/bin/env node
// One chat completion through byok-proxy with the official `openai` SDK (npm install openai).
// The proxy injects your own provider key; this script never sees it. When the proxy cannot be
// reached, or has no Cerebras key for this caller (provider_key_missing), it falls back to
// CEREBRAS_API_KEY sent straight to Cerebras, and says so.
//
//   BACKEND_URL=http://localhost:8080 BYOK_TOKEN=byok_... node examples/node/chat.mjs "Say hello"
/* global console, process */
import OpenAI from 'openai';

/** @type {(name: string, fallback?: string) => string} */
const env = (name, fallback = '') => process.env[name]?.trim() || fallback;
const backend = env('BACKEND_URL', 'http://localhost:8080').replace(/\/+$/, '');
const cerebrasUrl = env('CEREBRAS_BASE_URL', 'https://api.cerebras.ai').replace(/\/+$/, '');
const model = env('MODEL', 'llama-3.3-70b');
const prompt = process.argv.slice(2).join(' ') || 'Say hello in one short sentence.';

/** @type {(baseURL: string, apiKey: string, modelId: string) => Promise<{answer: string, source: string}>} */
async function chat(baseURL, apiKey, modelId) {
  // No retries: an unreachable proxy should fall back at once, not after backoff.
  const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: 120_000 });
  const { data, response } = await client.chat.completions
    .create({ model: modelId, messages: [{ role: 'user', content: prompt }] })
    .withResponse();
  const source = response.headers.get('x-byok-key-source') ?? 'unknown';
  return { answer: data.choices[0]?.message?.content ?? '', source };
}

/** @type {(message: string) => never} */
function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

/** What an error says: the API's own message (without the SDK's status prefix) when it sent one. */
function said(/** @type {unknown} */ e) {
  if (!(e instanceof OpenAI.APIError)) return String(e);
  const body = /** @type {unknown} */ (e.error);
  const message = body && typeof body === 'object' && 'message' in body ? body.message : undefined;
  return typeof message === 'string' ? message : e.message;
}

/** The connection failure's own words (ECONNREFUSED, ENOTFOUND…), not just "Connection error." */
function reason(/** @type {unknown} */ e) {
  let cause = e;
  while (cause instanceof Error && cause.cause !== undefined) cause = cause.cause;
  if (!(cause instanceof Error)) return String(cause);
  return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
}

try {
  const r = await chat(backend, env('BYOK_TOKEN', 'no-BYOK_TOKEN-set'), `cerebras/${model}`);
  console.log(`answer: ${r.answer}\nkey source: ${r.source} (byok-proxy at ${backend})`);
  process.exit(0);
} catch (e) {
  if (e instanceof OpenAI.APIConnectionError) {
    console.error(
      `byok-proxy at ${backend} is unreachable (${reason(e)}); falling back to CEREBRAS_API_KEY at ${cerebrasUrl}`,
    );
  } else if (e instanceof OpenAI.APIError && e.code === 'provider_key_missing') {
    console.error(
      `byok-proxy has no Cerebras key for this token (provider_key_missing); falling back to CEREBRAS_API_KEY at ${cerebrasUrl}`,
    );
  } else if (e instanceof OpenAI.APIError && e.code === 'unauthorized') {
    fail(
      `byok-proxy did not accept BYOK_TOKEN: ${said(e)}\n` +
        'Set BYOK_TOKEN to a JWT (dev mode: npm run -s token -- --sub <you>) or a byok_ access token from the settings page.',
    );
  } else {
    fail(said(e));
  }
}

const key = env('CEREBRAS_API_KEY');
if (!key)
  fail(
    `CEREBRAS_API_KEY is not set, so there is no key to fall back to. Add your Cerebras key on the settings page (${backend}/) or set CEREBRAS_API_KEY.`,
  );
try {
  const r = await chat(cerebrasUrl, key, model);
  console.log(
    `answer: ${r.answer}\nkey source: CEREBRAS_API_KEY (direct to ${cerebrasUrl}, not through byok-proxy)`,
  );
} catch (e) {
  if (e instanceof OpenAI.AuthenticationError || e instanceof OpenAI.PermissionDeniedError)
    fail(
      `Cerebras rejected CEREBRAS_API_KEY (HTTP ${e.status}): check the key. Cerebras said: ${said(e)}`,
    );
  if (e instanceof OpenAI.APIConnectionError)
    fail(`Cerebras at ${cerebrasUrl} is unreachable too (${reason(e)})`);
  fail(said(e));
}
