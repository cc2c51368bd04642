import { AppError } from '../../../src/common/errors/app-error';
import type { ProviderRecord } from '../../../src/providers/provider.schema';
import { findTopLevelModel, pickProvider, rewriteModel } from '../../../src/proxy/model-prefix';

const ids = ['cerebras', 'openai', 'groq', 'my-llm'];
const registry = {
  get: (id: string) => (ids.includes(id) ? ({ id } as ProviderRecord) : undefined),
  ids: () => ids,
};
const pick = (model: unknown, header?: string) => pickProvider(model, header, registry, 'cerebras');

function appError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('pickProvider', () => {
  it('takes the provider from a known first segment of model and strips it', () => {
    expect(pick('cerebras/llama-3.3-70b')).toEqual({
      providerId: 'cerebras',
      model: 'llama-3.3-70b',
      modelRewritten: true,
    });
    expect(pick('groq/meta-llama/llama-4-scout')).toEqual({
      providerId: 'groq',
      model: 'meta-llama/llama-4-scout',
      modelRewritten: true,
    });
    expect(pick('my-llm/x', 'openai')).toMatchObject({ providerId: 'my-llm', model: 'x' });
  });

  it('keeps a model whose first segment is not a provider whole', () => {
    expect(pick('meta-llama/Llama-3-8b')).toEqual({
      providerId: 'cerebras',
      model: 'meta-llama/Llama-3-8b',
      modelRewritten: false,
    });
    expect(pick('Cerebras/x')).toMatchObject({
      providerId: 'cerebras',
      model: 'Cerebras/x',
      modelRewritten: false,
    });
    expect(pick('/x')).toMatchObject({ model: '/x', modelRewritten: false });
  });

  it('falls back to the x-byok-provider header, then the default', () => {
    expect(pick('gpt-4o', 'openai')).toEqual({
      providerId: 'openai',
      model: 'gpt-4o',
      modelRewritten: false,
    });
    expect(pick('meta-llama/Llama-3-8b', ' Groq ')).toMatchObject({
      providerId: 'groq',
      model: 'meta-llama/Llama-3-8b',
    });
    expect(pick(undefined, 'openai')).toEqual({
      providerId: 'openai',
      model: undefined,
      modelRewritten: false,
    });
    expect(pick('gpt-4o', '')).toMatchObject({ providerId: 'cerebras' });
    expect(pick(42)).toEqual({ providerId: 'cerebras', model: undefined, modelRewritten: false });
    expect(pick(undefined)).toMatchObject({ providerId: 'cerebras' });
  });

  it('refuses an unknown header provider, listing the known ones', () => {
    const err = appError(() => pick('gpt-4o', 'nope'));
    expect(err.code).toBe('provider_unknown');
    expect(err.message).toBe(
      'Unknown provider "nope" in x-byok-provider. Known providers: cerebras, openai, groq, my-llm.',
    );
  });

  it('refuses a provider prefix with no model', () => {
    const err = appError(() => pick('openai/'));
    expect(err.code).toBe('validation_failed');
    expect(err.message).toContain('"openai/<model>"');
  });
});

describe('rewriteModel', () => {
  const rewrite = (body: string, model = 'llama') =>
    rewriteModel(Buffer.from(body), model).toString();

  it('replaces only the model value, keeping every other byte', () => {
    const body =
      '{ "messages": [ {"role":"user","content":"model: \\"x\\""} ],\n  "model" : "cerebras/llama" ,"stream":true, "n": 1.50}';
    expect(rewrite(body)).toBe(body.replace('"cerebras/llama"', '"llama"'));
  });

  it('ignores "model" keys and strings that are not top-level keys', () => {
    const body =
      '{"metadata":{"model":"inner"},"tools":[{"model":"t"}],"note":"\\"model\\":\\"no\\"","model":"openai/gpt-4o"}';
    expect(findTopLevelModel(Buffer.from(body))).toBeDefined();
    expect(rewrite(body, 'gpt-4o')).toBe(body.replace('"openai/gpt-4o"', '"gpt-4o"'));
  });

  it('handles escaped quotes and backslashes inside strings before the key', () => {
    const body = '{"a":"x\\\\","b":"y\\\\\\"z","model":"groq/m"}';
    expect(JSON.parse(body)).toMatchObject({ model: 'groq/m' });
    expect(rewrite(body, 'm')).toBe('{"a":"x\\\\","b":"y\\\\\\"z","model":"m"}');
  });

  it('escapes the new value', () => {
    expect(JSON.parse(rewrite('{"model":"p/x"}', 'a"b\\c\u2028é'))).toEqual({
      model: 'a"b\\c\u2028é',
    });
  });

  it('keeps multi-byte text around the model untouched', () => {
    const body = '{"content":"héllo 🔑 wörld","model":"openai/gpt-4o","tail":"日本"}';
    expect(rewrite(body, 'gpt-4o')).toBe(body.replace('openai/gpt-4o', 'gpt-4o'));
  });

  it('falls back to re-serialising when it cannot be sure, with the same meaning', () => {
    for (const body of [
      '{"model":"a/x","model":"openai/x"}', // duplicate key: JSON.parse keeps the last
      '{"mod\\u0065l":"openai/x"}', // escaped key
      '{"model":null}',
      '{"other":1}',
    ]) {
      expect(findTopLevelModel(Buffer.from(body))).toBeUndefined();
      const out = JSON.parse(rewrite(body, 'x'));
      expect(out.model).toBe('x');
      expect(Object.keys(out)).toEqual([...new Set([...Object.keys(JSON.parse(body)), 'model'])]);
    }
  });

  it('refuses bodies that are not a JSON object', () => {
    expect(appError(() => rewriteModel(Buffer.from('{"model":'), 'x')).code).toBe('invalid_json');
    expect(appError(() => rewriteModel(Buffer.from('["model"]'), 'x')).code).toBe(
      'validation_failed',
    );
    expect(findTopLevelModel(Buffer.from('{"model":"x"} {}'))).toBeUndefined();
    expect(findTopLevelModel(Buffer.from('{"model":"x'))).toBeUndefined();
  });

  it('agrees with JSON.parse on generated bodies', () => {
    const values: unknown[] = [
      'a',
      'q"uote',
      'back\\slash',
      1,
      null,
      true,
      [1, { model: 'n' }],
      { model: 'deep', k: ['}', ']'] },
    ];
    for (let i = 0; i < 200; i++) {
      const obj: Record<string, unknown> = {};
      const keys = ['messages', 'x', 'model', 'stream', 'tools'].sort(() => ((i * 7919) % 3) - 1);
      for (const [n, k] of keys.entries())
        obj[k] = k === 'model' ? `openai/m${i}` : values[(i + n) % values.length];
      const text = JSON.stringify(obj, null, i % 2 ? 2 : undefined);
      const out = JSON.parse(rewrite(text, `m${i}`));
      expect(out).toEqual({ ...obj, model: `m${i}` });
      expect(findTopLevelModel(Buffer.from(text))).toBeDefined();
    }
  });

  it('is fast on a large body (native skips over string contents)', () => {
    const big = JSON.stringify({
      messages: [{ role: 'user', content: 'x'.repeat(8 << 20) }],
      model: 'openai/gpt-4o',
    });
    const buf = Buffer.from(big);
    const t0 = performance.now();
    const out = rewriteModel(buf, 'gpt-4o');
    const ms = performance.now() - t0;
    expect(out.subarray(-17).toString()).toBe('"model":"gpt-4o"}');
    expect(out.length).toBe(buf.length - 'openai/'.length);
    expect(ms).toBeLessThan(200);
  });
});
