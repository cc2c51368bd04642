import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/app-config';
import { loadPrices, parsePriceYaml, PriceTable, pricesPath } from '../../../src/usage/prices';

describe('price table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'byok-prices-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('the built-in table loads and prices the well-known models', () => {
    const t = loadPrices({});
    expect(t.find('cerebras', 'llama-3.3-70b')).toMatchObject({ input: 0.85, output: 1.2 });
    expect(t.find('openai', 'gpt-4o')).toMatchObject({ input: 2.5, output: 10 });
    expect(t.find('anthropic', 'claude-haiku-4-5-20251001')).toMatchObject({ input: 1, output: 5 });
    expect(t.cost('openai', 'gpt-4o-mini', 1_000_000, 1_000_000)).toBeCloseTo(0.75, 12);
  });

  it('matches exactly, or by the longest prefix of a `match: prefix` entry', () => {
    const t = new PriceTable(
      parsePriceYaml(
        [
          'openai:',
          '  - { model: gpt-4o, match: prefix, input: 2.5, output: 10 }',
          '  - { model: gpt-4o-mini, match: prefix, input: 0.15, output: 0.6 }',
          '  - { model: o1, input: 15, output: 60 }',
        ].join('\n'),
        'test',
      ),
    );
    expect(t.find('openai', 'gpt-4o-2024-08-06')?.model).toBe('gpt-4o');
    expect(t.find('openai', 'gpt-4o-mini-2024-07-18')?.model).toBe('gpt-4o-mini');
    expect(t.find('OpenAI', 'GPT-4o')?.model).toBe('gpt-4o');
    expect(t.find('openai', 'o1')?.model).toBe('o1');
    expect(t.find('openai', 'o1-preview')).toBeUndefined(); // exact entries never match a prefix
    expect(t.find('groq', 'gpt-4o')).toBeUndefined(); // provider and model together
    expect(t.find('openai', null)).toBeUndefined();
  });

  it('unknown model: cost null, never 0; no tokens cost 0 whatever the model', () => {
    const t = loadPrices({});
    expect(t.cost('cerebras', 'mystery', 10, 0)).toBeNull();
    expect(t.cost('nope', 'llama-3.3-70b', 0, 1)).toBeNull();
    expect(t.cost('cerebras', null, 0, 0)).toBe(0);
    expect(t.cost('cerebras', 'llama-3.3-70b', 1000, 500)).toBeCloseTo(
      (1000 * 0.85 + 500 * 1.2) / 1e6,
      15,
    );
  });

  it('PRICES_FILE overrides same (provider, model) entries and adds others', () => {
    const pricesFile = file(
      'override.yaml',
      [
        'cerebras:',
        '  - { model: llama-3.3-70b, input: 9, output: 9 }',
        'my-llm:',
        '  - { model: house, match: prefix, input: 0, output: 0.5 }',
      ].join('\n'),
    );
    const t = loadPrices({ pricesFile });
    expect(t.find('cerebras', 'llama-3.3-70b')).toMatchObject({ input: 9, output: 9 });
    expect(t.find('cerebras', 'llama3.1-8b')).toMatchObject({ input: 0.1 }); // untouched
    expect(t.cost('my-llm', 'house-v2', 100, 2_000_000)).toBe(1);
    expect(
      loadPrices({ pricesFile: file('empty.yaml', '') }).find('openai', 'gpt-4o'),
    ).toBeDefined();
  });

  it('a bad PRICES_FILE stops start-up with a message naming each problem', () => {
    const bad = file(
      'bad.yaml',
      [
        'openai:',
        '  - { model: gpt-x, input: -1, output: "2" }',
        '  - { input: 1, output: 1 }',
        '  - { model: y, match: fuzzy, input: 1, output: 1, colour: red }',
        'groq: nope',
      ].join('\n'),
    );
    const load = () => loadPrices({ pricesFile: bad });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/openai\[0\] \(gpt-x\): input must be a number ≥ 0/);
    expect(load).toThrow(/openai\[0\] \(gpt-x\): output must be a number/);
    expect(load).toThrow(/openai\[1\]: model must be a non-empty string/);
    expect(load).toThrow(/openai\[2\] \(y\): match must be "exact" or "prefix"/);
    expect(load).toThrow(/openai\[2\]: unknown field\(s\) colour/);
    expect(load).toThrow(/groq: expected a list/);
    expect(() => loadPrices({ pricesFile: join(dir, 'missing.yaml') })).toThrow(/cannot read/);
    expect(() => loadPrices({ pricesFile: file('list.yaml', '- a\n- b') })).toThrow(
      /expected a map/,
    );
    expect(() => loadPrices({ pricesFile: file('broken.yaml', 'a: [') })).toThrow(/invalid YAML/);
  });

  it('finds prices.yaml next to the module (jest) or in ../../src/usage from dist/usage', () => {
    expect(pricesPath()).toMatch(/src[/\\]usage[/\\]prices\.yaml$/);
    expect(pricesPath(join(__dirname, '..', '..', '..', 'dist', 'usage'))).toMatch(
      /src[/\\]usage[/\\]prices\.yaml$/,
    );
    expect(() => pricesPath(dir)).toThrow(/prices\.yaml not found/);
  });
});
