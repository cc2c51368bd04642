import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/app-config';
import { ProviderRegistryService } from '../../../src/providers/provider-registry.service';
import { responseDone } from '../../../src/realtime/realtime-usage';
import { acceptedProtocol, readProtocols } from '../../../src/realtime/subprotocols';

const dir = mkdtempSync(join(tmpdir(), 'realtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const withProviders = (yaml: string) => {
  const file = join(dir, `p-${Math.random()}.yaml`);
  writeFileSync(file, yaml);
  return new ProviderRegistryService(loadConfig({ PROVIDERS_FILE: file }));
};

describe('provider realtime paths (YAML)', () => {
  it('declares OpenAI and Azure OpenAI realtime paths, OpenAI with its beta header', () => {
    const r = new ProviderRegistryService(loadConfig({}));
    expect(r.require('openai').realtime).toEqual({
      paths: ['/v1/realtime'],
      headers: { 'openai-beta': 'realtime=v1' },
    });
    expect(r.require('azure-openai').realtime?.paths).toContain('/openai/v1/realtime');
    expect(r.require('cerebras').realtime).toBeUndefined();
  });

  it('takes a custom provider with realtime paths and headers', () => {
    const r = withProviders(
      'my-voice:\n  baseUrl: https://voice.example\n  realtime: { paths: [/ws/live], headers: { X-Mode: live } }\n',
    );
    expect(r.require('my-voice').realtime).toEqual({
      paths: ['/ws/live'],
      headers: { 'x-mode': 'live' },
    });
  });

  it.each([
    ['realtime: [/v1/realtime]', 'realtime must be a mapping'],
    ['realtime: { paths: [] }', 'realtime.paths must be a non-empty list'],
    ['realtime: { paths: [v1/realtime] }', 'must be a plain path starting with "/"'],
    ['realtime: { paths: [/v1/../admin] }', 'must be a plain path'],
    [
      'realtime: { paths: [/x], headers: { Authorization: y } }',
      'is set by the proxy and cannot be fixed',
    ],
    [
      'realtime: { paths: [/x], headers: { sec-websocket-key: y } }',
      'is set by the proxy and cannot be fixed',
    ],
    ['realtime: { paths: [/x], extra: 1 }', 'realtime.extra is not a known field'],
  ])('refuses %s at start-up', (field, message) => {
    expect(() => withProviders(`bad:\n  baseUrl: https://bad.example\n  ${field}\n`)).toThrow(
      ConfigError,
    );
    expect(() => withProviders(`bad:\n  baseUrl: https://bad.example\n  ${field}\n`)).toThrow(
      message,
    );
  });
});

describe('subprotocols', () => {
  it('takes the credential out of the offered subprotocols and keeps the others in order', () => {
    const offered = readProtocols(
      'realtime, openai-insecure-api-key.byok_abc, openai-beta.realtime-v1',
    );
    expect(offered).toEqual({
      credential: 'byok_abc',
      credentialProtocol: 'openai-insecure-api-key.byok_abc',
      forward: ['realtime', 'openai-beta.realtime-v1'],
    });
    expect(acceptedProtocol(offered, 'openai-beta.realtime-v1')).toBe('openai-beta.realtime-v1');
    expect(acceptedProtocol(offered, '')).toBe('realtime');
  });

  it('echoes the credential subprotocol only when the client offered nothing else', () => {
    const only = readProtocols(['openai-insecure-api-key.tok']);
    expect(only.forward).toEqual([]);
    expect(acceptedProtocol(only, '')).toBe('openai-insecure-api-key.tok');
    expect(acceptedProtocol(readProtocols(undefined), '')).toBe(false);
  });
});

describe('responseDone', () => {
  const msg = (o: unknown) => Buffer.from(JSON.stringify(o));

  it('reads the usage of a response.done event', () => {
    const done = msg({
      type: 'response.done',
      response: { status: 'completed', usage: { input_tokens: 12, output_tokens: 34 } },
    });
    expect(responseDone(done)).toEqual({
      promptTokens: 12,
      completionTokens: 34,
      status: 'completed',
    });
  });

  it('ignores other events, events that only quote the type, and bad JSON', () => {
    expect(responseDone(msg({ type: 'response.created' }))).toBeUndefined();
    expect(
      responseDone(msg({ type: 'conversation.item', text: '"response.done"' })),
    ).toBeUndefined();
    expect(responseDone(Buffer.from('{"type":"response.done"'))).toBeUndefined();
  });

  it('reports no tokens rather than wrong ones when usage is missing or malformed', () => {
    const done = msg({ type: 'response.done', response: { usage: { input_tokens: -1 } } });
    expect(responseDone(done)).toEqual({
      promptTokens: undefined,
      completionTokens: undefined,
      status: undefined,
    });
  });
});
