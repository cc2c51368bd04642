import { AppError } from '../../../src/common/errors/app-error';
import { buildUpstreamUrl } from '../../../src/upstream/upstream-url';

const openai = { baseUrl: 'https://api.openai.com', openaiPrefix: '/v1' };
const groq = { baseUrl: 'https://api.groq.com', openaiPrefix: '/openai/v1' };
const gateway = { baseUrl: 'http://127.0.0.1:8787/acct/gw/openai', openaiPrefix: '/v1' };

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('buildUpstreamUrl', () => {
  it('maps /proxy/{id}/{path} to {baseUrl}/{path}', () => {
    expect(buildUpstreamUrl(openai, 'v1/chat/completions', '')).toBe(
      'https://api.openai.com/v1/chat/completions',
    );
    expect(buildUpstreamUrl(groq, 'openai/v1/models', '')).toBe(
      'https://api.groq.com/openai/v1/models',
    );
    expect(buildUpstreamUrl(gateway, 'chat/completions', '')).toBe(
      'http://127.0.0.1:8787/acct/gw/openai/chat/completions',
    );
    expect(buildUpstreamUrl(openai, '', '')).toBe('https://api.openai.com/');
  });

  it('maps /v1/{path} to {baseUrl}{openaiPrefix}/{path}', () => {
    expect(buildUpstreamUrl(openai, 'chat/completions', '', 'openai')).toBe(
      'https://api.openai.com/v1/chat/completions',
    );
    expect(buildUpstreamUrl(groq, 'models', '', 'openai')).toBe(
      'https://api.groq.com/openai/v1/models',
    );
    expect(buildUpstreamUrl(gateway, 'embeddings', '', 'openai')).toBe(
      'http://127.0.0.1:8787/acct/gw/openai/v1/embeddings',
    );
  });

  it('keeps the query string and legitimate path characters', () => {
    expect(
      buildUpstreamUrl(openai, 'v1/files', '?purpose=batch&limit=2&after=a%2Fb', 'native'),
    ).toBe('https://api.openai.com/v1/files?purpose=batch&limit=2&after=a%2Fb');
    expect(buildUpstreamUrl(openai, 'models/ft:gpt-4o:acme::abc', '', 'openai')).toBe(
      'https://api.openai.com/v1/models/ft:gpt-4o:acme::abc',
    );
    expect(buildUpstreamUrl(openai, 'models/claude@20240229/', '')).toBe(
      'https://api.openai.com/models/claude@20240229/',
    );
    expect(buildUpstreamUrl(openai, 'v1/a%20b%C3%A9', '')).toBe(
      'https://api.openai.com/v1/a%20b%C3%A9',
    );
  });

  it('never lets the query or an "@" change the host', () => {
    const url = new URL(buildUpstreamUrl(openai, '@evil.example/x', '?u=http://evil.example/@x'));
    expect(url.origin).toBe('https://api.openai.com');
    expect(url.pathname).toBe('/@evil.example/x');
    expect(new URL(buildUpstreamUrl(openai, 'user:pass@evil.example', '')).host).toBe(
      'api.openai.com',
    );
  });

  it.each([
    ['/evil.example/', 'empty segments'], // /proxy/openai//evil.example/
    ['//evil.example/x', 'empty segments'],
    ['v1//models', 'empty segments'],
    ['../admin', '".." segments'],
    ['v1/../../admin', '".." segments'],
    ['v1/./models', '"." and ".."'],
    ['..', '".." segments'],
    ['%2e%2e/admin', '".." segments'],
    ['%2E%2e%2fadmin', 'encoded slashes'],
    ['v1/..%2fadmin', 'encoded slashes'],
    ['v1/%252e%252e/admin', '".." segments'],
    ['v1/%25252e%25252e/admin', '".." segments'],
    ['v1/a%252fb', 'encoded slashes'],
    ['v1\\..\\admin', 'backslashes'],
    ['v1/%5c..%5cadmin', 'backslashes'],
    ['http://evil.example/x', 'absolute URL'],
    ['https:%2F%2Fevil.example', 'encoded slashes'],
    ['v1/models%00.json', 'control characters'],
    ['v1/models%0d%0aHost:%20evil', 'control characters'],
    ['v1/mo dels', 'visible ASCII'],
    ['v1/modèles', 'visible ASCII'],
    ['v1/models?x=1', 'belong to the query'],
    ['v1/models#frag', 'belong to the query'],
    ['v1/a%3fb', 'encoded "?"'],
    ['%2525252e', 'too many layers'],
  ])('refuses %j (%s)', (path, why) => {
    const err = refusal(() => buildUpstreamUrl(openai, path, ''));
    expect(err.code).toBe('validation_failed');
    expect(err.status).toBe(400);
    expect(err.message).toContain(why);
    expect(refusal(() => buildUpstreamUrl(openai, path, '', 'openai')).code).toBe(
      'validation_failed',
    );
  });

  describe('a provider whose paths may carry encoded slashes (Bedrock model ARNs)', () => {
    const bedrock = { ...openai, encodedSlashes: true };
    const arn = 'model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse';

    it('keeps %2F inside a segment, byte for byte', () => {
      expect(buildUpstreamUrl(bedrock, arn, '')).toBe(`https://api.openai.com/${arn}`);
      expect(refusal(() => buildUpstreamUrl(openai, arn, '')).message).toContain('encoded slashes');
    });

    it.each([
      ['model/x%2F..%2F..%2Fadmin/converse', '".." segments'],
      ['model/x%2F.%2Fy/converse', '"." and ".."'],
      ['%2F%2Fevil.example/x', 'empty segments'],
      ['%2Fadmin', 'empty segments'],
      ['model/x%2F%2Fy', 'empty segments'],
      ['model/x%252F..%252Fy', 'encoded slashes'],
      ['https:%2F%2Fevil.example', 'absolute URL'],
    ])('still refuses %j (%s)', (path, why) => {
      expect(refusal(() => buildUpstreamUrl(bedrock, path, '')).message).toContain(why);
    });
  });

  it.each([['a=1'], ['?a=1#f'], ['?a=\n'], ['?a= b']])('refuses the query %j', (search) => {
    expect(refusal(() => buildUpstreamUrl(openai, 'v1/models', search)).message).toContain(
      'query string',
    );
  });
});
