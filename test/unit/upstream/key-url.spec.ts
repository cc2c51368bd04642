import { validateKeyParams } from '../../../src/providers/key-params';
import { buildUpstreamUrl } from '../../../src/upstream/upstream-url';
import { keyUrl } from '../../../src/upstream/key-url';

const azure = {
  baseUrl: 'https://{resource}.openai.azure.com',
  openaiPrefix: '/openai/v1',
  verify: { method: 'GET' as const, path: '/openai/v1/models' },
};
const vertex = {
  baseUrl: 'https://{location}-aiplatform.googleapis.com',
  openaiPrefix: '/v1/projects/{project}/locations/{location}/endpoints/openapi',
  verify: { method: 'GET' as const, path: '/x' },
};

describe('URLs naming key parameters', () => {
  it("builds on the stand-in, then fills in the key's values, the client's path kept as sent", () => {
    const native = buildUpstreamUrl(azure, 'openai/deployments/d%3A1/chat/completions', '?a=b');
    expect(native).toBe(
      'https://byok-resource.openai.azure.com/openai/deployments/d%3A1/chat/completions?a=b',
    );
    expect(keyUrl(native, azure, { resource: 'my-res' })).toBe(
      'https://my-res.openai.azure.com/openai/deployments/d%3A1/chat/completions?a=b',
    );
    const chat = buildUpstreamUrl(vertex, 'chat/completions', '', 'openai');
    expect(keyUrl(chat, vertex, { project: 'p-12345', location: 'europe-west4' })).toBe(
      'https://europe-west4-aiplatform.googleapis.com/v1/projects/p-12345/locations/europe-west4/endpoints/openapi/chat/completions',
    );
  });

  it('never rewrites a URL that is not on the provider stand-in', () => {
    expect(() => keyUrl('https://evil.example/x', azure, { resource: 'r' })).toThrow();
  });

  it('only takes values that stay one DNS label or path segment', () => {
    const kind = { auth: 'azure' as const, keyBaseUrl: false };
    for (const resource of ['evil.com/x', 'a.b', 'x@y', '', '-x'])
      expect(validateKeyParams(kind, { resource }).problems).not.toEqual([]);
    expect(validateKeyParams(kind, { resource: 'my-res' })).toEqual({
      params: { resource: 'my-res', apiVersion: '2024-10-21' },
      problems: [],
    });
    const sigv4 = { auth: 'sigv4' as const, keyBaseUrl: false };
    expect(validateKeyParams(sigv4, { region: 'us-gov-west-1' }).problems).toEqual([]);
    expect(validateKeyParams(sigv4, { region: 'us-east-1.x' }).problems).toHaveLength(1);
  });
});
