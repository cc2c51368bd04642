import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/app-config';
import { AppError } from '../../../src/common/errors/app-error';
import { builtinProvidersPath, normalizeBaseUrl } from '../../../src/providers/provider-loader';
import { ProviderRegistryService } from '../../../src/providers/provider-registry.service';

const dir = mkdtempSync(join(tmpdir(), 'providers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function providersFile(yaml: string): string {
  const file = join(dir, `providers-${n++}.yaml`);
  writeFileSync(file, yaml);
  return file;
}
const registry = (env: Record<string, string> = {}): ProviderRegistryService =>
  new ProviderRegistryService(loadConfig(env));
const startupError = (env: Record<string, string>): string => {
  try {
    registry(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a start-up error');
};

describe('ProviderRegistryService: built-ins', () => {
  const r = registry();

  it('has the fourteen built-in providers, each with a name and a verify request', () => {
    expect(r.ids()).toEqual([
      'cerebras',
      'openai',
      'anthropic',
      'groq',
      'mistral',
      'openrouter',
      'together',
      'deepseek',
      'xai',
      'gemini',
      'azure-openai',
      'bedrock',
      'vertex',
      'openai-compatible',
    ]);
    for (const p of r.list()) {
      expect(p.name).toBeTruthy();
      expect(p.verify.method).toBe('GET');
      expect(p.envKey).toBe(`${p.id.toUpperCase().replace(/-/g, '_')}_API_KEY`);
    }
  });

  it('describes the cloud kinds: URLs naming key parameters, no env fallback', () => {
    expect(r.get('azure-openai')).toMatchObject({
      auth: 'azure',
      baseUrl: 'https://{resource}.openai.azure.com',
      openaiPrefix: '/openai/v1',
      envFallback: false,
    });
    expect(r.get('bedrock')).toMatchObject({
      auth: 'sigv4',
      signingService: 'bedrock',
      baseUrl: 'https://bedrock-runtime.{region}.amazonaws.com',
      verify: { baseUrl: 'https://bedrock.{region}.amazonaws.com', path: '/foundation-models' },
    });
    expect(r.get('vertex')).toMatchObject({
      auth: 'gcp-service-account',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      openaiPrefix: '/v1/projects/{project}/locations/{location}/endpoints/openapi',
    });
    expect(r.get('openai-compatible')).toMatchObject({ keyBaseUrl: true, baseUrl: '{baseUrl}' });
    expect(r.get('bedrock')).toMatchObject({ encodedSlashes: true });
  });

  it('describes Cerebras, Anthropic, Groq, OpenRouter and Gemini as their APIs expect', () => {
    expect(r.get('cerebras')).toEqual({
      id: 'cerebras',
      name: 'Cerebras',
      baseUrl: 'https://api.cerebras.ai',
      openaiPrefix: '/v1',
      auth: 'bearer',
      headers: {},
      envKey: 'CEREBRAS_API_KEY',
      envFallback: true,
      verify: { method: 'GET', path: '/v1/models' },
      keyBaseUrl: false,
      encodedSlashes: false,
    });
    expect(r.get('anthropic')).toMatchObject({
      auth: 'x-api-key',
      headers: { 'anthropic-version': '2023-06-01' },
      envFallback: false,
      verify: { method: 'GET', path: '/v1/models' },
    });
    expect(r.get('groq')).toMatchObject({ openaiPrefix: '/openai/v1' });
    expect(r.get('groq')?.verify.path).toBe('/openai/v1/models');
    expect(r.get('openrouter')).toMatchObject({
      baseUrl: 'https://openrouter.ai',
      openaiPrefix: '/api/v1',
    });
    expect(r.get('gemini')).toMatchObject({
      baseUrl: 'https://generativelanguage.googleapis.com',
      openaiPrefix: '/v1beta/openai',
      auth: 'bearer',
    });
  });

  it('defaults to cerebras and answers lookups', () => {
    expect(r.defaultProvider).toBe('cerebras');
    expect(r.get('nope')).toBeUndefined();
    expect(r.require('openai').id).toBe('openai');
  });

  it('rejects an unknown id with provider_unknown listing the known ids', () => {
    expect(() => r.require('nope')).toThrow(AppError);
    try {
      r.require('nope');
    } catch (err) {
      const e = err as AppError;
      expect(e.code).toBe('provider_unknown');
      expect(e.status).toBe(400);
      expect(e.message).toContain('"nope"');
      expect(e.message).toContain('cerebras, openai, anthropic');
    }
  });

  it('keeps records immutable', () => {
    const p = r.require('openai');
    expect(() => {
      p.baseUrl = 'http://evil';
    }).toThrow(TypeError);
    expect(() => {
      p.headers.x = 'y';
    }).toThrow(TypeError);
    r.list().pop();
    expect(r.list()).toHaveLength(14);
  });

  it('finds the YAML from src/ and from dist/', () => {
    const src = builtinProvidersPath();
    expect(src).toMatch(/src[/\\]providers[/\\]builtin-providers\.yaml$/);
    const fromDist = builtinProvidersPath(join(__dirname, '..', '..', '..', 'dist', 'providers'));
    expect(fromDist).toBe(src);
    expect(() => builtinProvidersPath('/nowhere/at/all')).toThrow(/not found/);
  });
});

describe('ProviderRegistryService: env overrides and the env key', () => {
  it('reads the env key as a SecretValue and reports fallback availability', () => {
    const r = registry({ CEREBRAS_API_KEY: 'csk-secret-1234', ANTHROPIC_API_KEY: 'sk-ant-9999' });
    const key = r.envKey('cerebras');
    expect(key?.reveal()).toBe('csk-secret-1234');
    expect(String(key)).toBe('[redacted]');
    expect(JSON.stringify(r.list())).not.toContain('csk-secret-1234');
    expect(r.envFallbackAvailable('cerebras')).toBe(true);
    expect(r.envFallbackAvailable('anthropic')).toBe(false); // key set, fallback off
    expect(r.envFallbackAvailable('openai')).toBe(false); // fallback on, no key
    expect(r.envFallbackAvailable('nope')).toBe(false);
    expect(r.envKey('openai')).toBeUndefined();
  });

  it('applies <ID>_BASE_URL and <ID>_ENV_FALLBACK', () => {
    const r = registry({
      OPENAI_BASE_URL: 'http://127.0.0.1:9999/',
      ANTHROPIC_ENV_FALLBACK: 'true',
      ANTHROPIC_API_KEY: 'k',
      CEREBRAS_ENV_FALLBACK: 'false',
      CEREBRAS_API_KEY: 'k',
    });
    expect(r.require('openai').baseUrl).toBe('http://127.0.0.1:9999');
    expect(r.envFallbackAvailable('anthropic')).toBe(true);
    expect(r.envFallbackAvailable('cerebras')).toBe(false);
  });

  it('names the variable of a bad override', () => {
    expect(startupError({ OPENAI_BASE_URL: 'ftp://x' })).toMatch(
      /OPENAI_BASE_URL must use http or https/,
    );
    expect(startupError({ OPENAI_BASE_URL: 'http://u:p@x' })).toMatch(
      /OPENAI_BASE_URL must not contain credentials/,
    );
    expect(startupError({ GROQ_ENV_FALLBACK: 'yes' })).toMatch(
      /GROQ_ENV_FALLBACK must be "true" or "false", got "yes"/,
    );
  });

  it('refuses an unknown DEFAULT_PROVIDER', () => {
    expect(startupError({ DEFAULT_PROVIDER: 'nope' })).toMatch(
      /DEFAULT_PROVIDER "nope" is not a known provider \(known: cerebras, /,
    );
    expect(registry({ DEFAULT_PROVIDER: 'groq' }).defaultProvider).toBe('groq');
  });
});

describe('ProviderRegistryService: PROVIDERS_FILE', () => {
  it('adds providers from a list, with defaults, and overrides built-in fields by id', () => {
    const file = providersFile(`
- id: local-llm
  baseUrl: http://127.0.0.1:11434
- id: openai
  name: OpenAI (EU)
  baseUrl: https://eu.api.openai.com
`);
    const r = registry({
      PROVIDERS_FILE: file,
      LOCAL_LLM_API_KEY: 'k',
      LOCAL_LLM_BASE_URL: 'http://10.0.0.1:8000/',
    });
    expect(r.get('local-llm')).toEqual({
      id: 'local-llm',
      name: 'local-llm',
      baseUrl: 'http://10.0.0.1:8000',
      openaiPrefix: '/v1',
      auth: 'bearer',
      headers: {},
      envKey: 'LOCAL_LLM_API_KEY',
      envFallback: true,
      verify: { method: 'GET', path: '/v1/models' },
      keyBaseUrl: false,
      encodedSlashes: false,
    });
    expect(r.envFallbackAvailable('local-llm')).toBe(true);
    expect(r.get('openai')).toMatchObject({
      name: 'OpenAI (EU)',
      baseUrl: 'https://eu.api.openai.com',
      openaiPrefix: '/v1',
    });
    expect(r.ids().at(-1)).toBe('local-llm');
  });

  it('accepts a map keyed by id', () => {
    const file = providersFile(`
azure:
  baseUrl: https://acme.openai.azure.com/openai
  openaiPrefix: /deployments/gpt4o
  auth: api-key
  envKey: AZURE_OPENAI_API_KEY
  headers: { X-Team: ml }
  verify: { method: POST, path: /deployments/gpt4o/chat/completions?api-version=2024-10-21, body: { messages: [] } }
anthropic: { envFallback: true }
`);
    const r = registry({ PROVIDERS_FILE: file });
    expect(r.get('azure')).toMatchObject({
      baseUrl: 'https://acme.openai.azure.com/openai',
      auth: 'api-key',
      headers: { 'x-team': 'ml' },
      verify: { method: 'POST', body: { messages: [] } },
    });
    expect(r.get('anthropic')).toMatchObject({ envFallback: true, auth: 'x-api-key' });
  });

  it('names the provider and the field of every bad record', () => {
    const file = providersFile(`
- id: Bad_Id
  baseUrl: https://x
- id: broken
  baseUrl: https://x.example/v1?key=1
  openaiPrefix: v1
  auth: basic
  envKey: broken_key
  envFallback: "yes"
  encodedSlashes: sometimes
  baseURL: typo
  headers: { authorization: Bearer x, "x-ok": 3 }
  verify: { method: DELETE, path: models }
- id: nobase
`);
    const msg = startupError({ PROVIDERS_FILE: file });
    for (const part of [
      'provider id "Bad_Id" must match',
      'provider "broken": baseUrl must not contain a query or fragment',
      'provider "broken": openaiPrefix must start with "/"',
      'provider "broken": auth must be one of bearer | x-api-key | api-key | azure | sigv4 | gcp-service-account, got "basic"',
      'provider "broken": envKey must be an UPPER_SNAKE variable name ending in _API_KEY',
      'provider "broken": envFallback must be true or false',
      'provider "broken": encodedSlashes must be true or false',
      'provider "broken": baseURL is not a known field',
      'provider "broken": headers.authorization is set by the proxy',
      'provider "broken": headers.x-ok must be a single-line string',
      'provider "broken": verify.method must be GET or POST, got "DELETE"',
      'provider "broken": verify.path must be a path starting with "/"',
      'provider "nobase": baseUrl is required',
    ])
      expect(msg).toContain(part);
    expect(msg).toContain(`PROVIDERS_FILE (${file})`);
  });

  it('refuses credential-kind records that could not work or could leave their host', () => {
    const file = providersFile(`
- id: aws
  baseUrl: 'https://{region}.{bucket}.example'
  auth: sigv4
  envFallback: true
- id: gcp
  baseUrl: https://g.example
  auth: gcp-service-account
- id: own
  baseUrl: https://fixed.example
  keyBaseUrl: true
- id: plain
  baseUrl: '{baseUrl}'
  tokenUrl: https://t.example
`);
    const msg = startupError({ PROVIDERS_FILE: file });
    for (const part of [
      'provider "aws": baseUrl names {bucket}, which sigv4 keys do not carry (they carry: region)',
      'provider "aws": signingService is required for sigv4',
      'provider "aws": envFallback must be false: sigv4 keys carry parameters',
      'provider "gcp": tokenUrl is required for gcp-service-account',
      'provider "own": baseUrl must be "{baseUrl}" (or left out) when keyBaseUrl is true',
      'provider "plain": baseUrl names {baseUrl}',
      'provider "plain": tokenUrl is only for auth: gcp-service-account',
    ])
      expect(msg).toContain(part);
    // The operator naming the server pins it: keys then carry no base URL of their own.
    expect(
      registry({ OPENAI_COMPATIBLE_BASE_URL: 'http://10.0.0.1:8000' }).get('openai-compatible'),
    ).toMatchObject({ baseUrl: 'http://10.0.0.1:8000', keyBaseUrl: false });
  });

  it('reports unreadable files, bad YAML, wrong shapes, duplicates and env prefix clashes', () => {
    expect(startupError({ PROVIDERS_FILE: join(dir, 'missing.yaml') })).toMatch(
      /PROVIDERS_FILE .*cannot read/,
    );
    expect(startupError({ PROVIDERS_FILE: providersFile('- id: [') })).toMatch(/invalid YAML/);
    expect(startupError({ PROVIDERS_FILE: providersFile('just a string') })).toMatch(
      /must be a list of providers or a map by id/,
    );
    expect(startupError({ PROVIDERS_FILE: providersFile('- 3') })).toMatch(
      /entry 0 must be a mapping/,
    );
    expect(
      startupError({ PROVIDERS_FILE: providersFile('a: { id: b, baseUrl: http://x }') }),
    ).toMatch(/"a" has a different id "b"/);
    expect(
      startupError({
        PROVIDERS_FILE: providersFile(
          '- { id: x, baseUrl: http://x }\n- { id: x, baseUrl: http://y }',
        ),
      }),
    ).toMatch(/"x" appears twice/);
    expect(
      startupError({
        PROVIDERS_FILE: providersFile(
          '- { id: my-x, baseUrl: http://x }\n- { id: my_x, baseUrl: http://y }',
        ),
      }),
    ).toMatch(/share the env prefix MY_X_/);
    expect(registry({ PROVIDERS_FILE: providersFile('') }).ids()).toHaveLength(14);
  });
});

describe('normalizeBaseUrl', () => {
  it.each([
    ['https://api.x.ai/', 'https://api.x.ai'],
    ['https://API.X.AI:443/v1/', 'https://api.x.ai/v1'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ])('%s → %s', (input, out) => expect(normalizeBaseUrl(input)).toBe(out));

  it.each([
    ['', /absolute/],
    ['api.x.ai', /absolute/],
    ['file:///etc/passwd', /http or https/],
    ['https://u@x', /credentials/],
    ['https://x/#f', /fragment/],
    ['https://x/a/../b', /dot segments/],
    ['https://x/a%2fb', /encoded slashes/],
  ])('refuses %j', (input, why) => expect(() => normalizeBaseUrl(input)).toThrow(why));
});
