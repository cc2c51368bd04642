import {
  createScrubber,
  type ScrubSecret,
  scrubText,
  spellingsOf,
} from '../../../src/proxy/key-scrubber';

const secret = (value: string): ScrubSecret => ({ value, hint: `…${value.slice(-4)}` });

/** Reference semantics on the whole input, written the slow obvious way. */
function reference(input: Buffer, secrets: ScrubSecret[]): Buffer {
  const pats = [...new Set(secrets.filter((s) => s.value).map((s) => s.value))]
    .map((v) => ({
      v: Buffer.from(v),
      hint: Buffer.from(secrets.find((s) => s.value === v)!.hint),
    }))
    .sort((a, b) => b.v.length - a.v.length);
  const occ: { s: number; p: (typeof pats)[number] }[] = [];
  for (let s = 0; s < input.length; s++)
    for (const p of pats) if (input.subarray(s, s + p.v.length).equals(p.v)) occ.push({ s, p });
  const out: Buffer[] = [];
  let pos = 0;
  let cover = 0;
  for (const { s, p } of occ) {
    if (s > Math.max(pos, cover)) out.push(input.subarray(Math.max(pos, cover), s));
    if (s >= cover) out.push(p.hint);
    cover = Math.max(cover, s + p.v.length);
    pos = s;
  }
  out.push(input.subarray(Math.max(pos, cover)));
  return Buffer.concat(out);
}

function streamed(chunks: Buffer[], secrets: ScrubSecret[]): Buffer {
  const s = createScrubber(secrets);
  return Buffer.concat([...chunks.map((c) => s.push(c)), s.flush()]);
}

function splitAt(buf: Buffer, ...cuts: number[]): Buffer[] {
  const points = [0, ...cuts, buf.length];
  return points.slice(1).map((end, i) => buf.subarray(points[i], end));
}

describe('createScrubber', () => {
  const key = 'csk-abcdefghijklmnop1234';

  it('replaces a key with its hint', () => {
    const out = streamed([Buffer.from(`data: {"error":"bad key ${key}"}\n\n`)], [secret(key)]);
    expect(out.toString()).toBe('data: {"error":"bad key …1234"}\n\n');
  });

  it('finds a key split at every position of a two-chunk stream', () => {
    const input = Buffer.from(`before ${key} after`);
    for (let cut = 0; cut <= input.length; cut++)
      expect(streamed(splitAt(input, cut), [secret(key)]).toString()).toBe('before …1234 after');
  });

  it('finds a key split at every pair of positions, byte by byte too', () => {
    const input = Buffer.from(`x${key}y${key}`);
    for (let a = 0; a <= input.length; a++)
      for (let b = a; b <= input.length; b++)
        expect(streamed(splitAt(input, a, b), [secret(key)]).toString()).toBe('x…1234y…1234');
    const bytes = [...input].map((b) => Buffer.from([b]));
    expect(streamed(bytes, [secret(key)]).toString()).toBe('x…1234y…1234');
  });

  it('passes chunks without a possible key prefix on at once, untouched and uncopied', () => {
    const s = createScrubber([secret(key)]);
    const chunk = Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}]}\n\n');
    expect(s.push(chunk)).toBe(chunk);
    expect(s.flush()).toHaveLength(0);
  });

  it('holds back only a tail that could start a key, and at most maxLen-1 bytes', () => {
    const s = createScrubber([secret(key)]);
    expect(s.push(Buffer.from('hello cs')).toString()).toBe('hello ');
    expect(s.push(Buffer.from('v is not it')).toString()).toBe('csv is not it');
    expect(s.push(Buffer.from(`tail ${key.slice(0, -1)}`)).toString()).toBe('tail ');
    expect(s.flush().toString()).toBe(key.slice(0, -1));
  });

  it('handles several secrets, overlapping and adjacent ones, and a secret inside another', () => {
    const a = secret('sk-AAAA1111');
    const b = secret('1111BBBB2222');
    const inner = secret('AAAA');
    const cases: [string, ScrubSecret[]][] = [
      ['a sk-AAAA1111 b 1111BBBB2222 c', [a, b]],
      ['overlap sk-AAAA1111BBBB2222 end', [a, b]],
      ['adjacent sk-AAAA11111111BBBB2222', [a, b]],
      ['nested sk-AAAA1111 and AAAA alone', [a, inner]],
      ['self-overlap aaaaaaa', [secret('aaaa')]],
      ['prefix pair sk-AAAA1111 sk-AAAA', [a, secret('sk-AAAA')]],
    ];
    for (const [text, secrets] of cases) {
      const input = Buffer.from(text);
      const want = reference(input, secrets);
      const masked = reference(
        input,
        secrets.map((s) => ({ value: s.value, hint: '#' })),
      );
      for (const s of secrets) expect(masked.includes(s.value)).toBe(false);
      for (let cut = 0; cut <= input.length; cut++)
        for (let cut2 = cut; cut2 <= input.length; cut2 += 3)
          expect(streamed(splitAt(input, cut, cut2), secrets).toString()).toBe(want.toString());
    }
    expect(reference(Buffer.from('overlap sk-AAAA1111BBBB2222 end'), [a, b]).toString()).toBe(
      'overlap …1111 end',
    );
    expect(reference(Buffer.from('self-overlap aaaaaaa'), [secret('aaaa')]).toString()).toBe(
      'self-overlap …aaaa',
    );
  });

  it('prefers the longer of two secrets starting at the same byte, even across chunks', () => {
    const secrets = [secret('sk-short'), secret('sk-short-and-longer')];
    const input = Buffer.from('x sk-short-and-longer y sk-short z');
    for (let cut = 0; cut <= input.length; cut++)
      expect(streamed(splitAt(input, cut), secrets).toString()).toBe('x …nger y …hort z');
  });

  it('works on bytes: multi-byte characters and keys split inside them', () => {
    const uni = { value: 'ключ-🔑-секрет', hint: '…крет' };
    const input = Buffer.from(`é ${uni.value} ü`);
    for (let cut = 0; cut <= input.length; cut++)
      expect(streamed(splitAt(input, cut), [uni]).toString()).toBe('é …крет ü');
  });

  it('matches the reference on random streams', () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const secrets = [secret('abab'), secret('babba'), secret('aab')];
    for (let round = 0; round < 400; round++) {
      const input = Buffer.from(Array.from({ length: 40 }, () => 'ab'[rand(2)]).join(''));
      const cuts = Array.from({ length: rand(6) }, () => rand(41)).sort((x, y) => x - y);
      expect(streamed(splitAt(input, ...cuts), secrets).toString()).toBe(
        reference(input, secrets).toString(),
      );
    }
  });

  it('ignores empty chunks, empty secrets and duplicates; no secrets means pass-through', () => {
    const s = createScrubber([secret(key), secret(key), { value: '', hint: '…' }]);
    expect(s.push(Buffer.alloc(0))).toHaveLength(0);
    expect(s.push(Buffer.from(key.slice(0, 5))).toString()).toBe('');
    expect(s.push(Buffer.alloc(0))).toHaveLength(0);
    expect(s.push(Buffer.from(key.slice(5))).toString()).toBe('…1234');
    expect(s.flush()).toHaveLength(0);
    const none = createScrubber([]);
    const chunk = Buffer.from('anything');
    expect(none.push(chunk)).toBe(chunk);
    expect(none.flush()).toHaveLength(0);
  });

  it('does not keep references to pushed chunks it holds back', () => {
    const s = createScrubber([secret(key)]);
    const chunk = Buffer.from(`x ${key.slice(0, 6)}`);
    s.push(chunk);
    chunk.fill(0x21);
    expect(s.push(Buffer.from(key.slice(6))).toString()).toBe('…1234');
  });
});

describe('JSON-escaped spellings of a key', () => {
  const slashKey = 'sk-or/v1/abcd/efgh-9876';
  const escaped = slashKey.replaceAll('/', '\\/');

  it('lists the spellings an encoder may write, and only the raw one for a plain key', () => {
    expect(spellingsOf('csk-plain-1234')).toEqual(['csk-plain-1234']);
    expect(spellingsOf(slashKey)).toEqual([slashKey, escaped]);
    expect(spellingsOf('a"b\\c')).toEqual(['a"b\\c', 'a\\"b\\\\c']);
    expect(spellingsOf('a<b&c/d')).toEqual(['a<b&c/d', 'a<b&c\\/d', 'a\\u003cb\\u0026c/d']);
  });

  it('hides a key echoed with "/" escaped as "\\/", split at every position', () => {
    const input = Buffer.from(`{"error":{"message":"Incorrect API key: ${escaped}"}}`);
    const want = '{"error":{"message":"Incorrect API key: …9876"}}';
    for (let cut = 0; cut <= input.length; cut++)
      for (let cut2 = cut; cut2 <= input.length; cut2 += 5)
        expect(streamed(splitAt(input, cut, cut2), [secret(slashKey)]).toString()).toBe(want);
    const bytes = [...input].map((b) => Buffer.from([b]));
    expect(streamed(bytes, [secret(slashKey)]).toString()).toBe(want);
  });

  it('hides the raw and the escaped spelling side by side', () => {
    const text = `raw ${slashKey} escaped ${escaped} end`;
    expect(streamed([Buffer.from(text)], [secret(slashKey)]).toString()).toBe(
      'raw …9876 escaped …9876 end',
    );
    expect(scrubText(text, [secret(slashKey)])).toBe('raw …9876 escaped …9876 end');
  });

  it('hides an env key with a quote or backslash in its JSON spelling', () => {
    const odd = { value: 'op"key\\with-quote-1234', hint: '…1234' };
    const json = JSON.stringify({ echoed: odd.value });
    expect(json).not.toContain(odd.value);
    expect(scrubText(json, [odd])).toBe('{"echoed":"…1234"}');
    const input = Buffer.from(json);
    for (let cut = 0; cut <= input.length; cut++)
      expect(streamed(splitAt(input, cut), [odd]).toString()).toBe('{"echoed":"…1234"}');
  });

  it("hides Go's \\u003c escapes", () => {
    const go = { value: 'k<e>y&1234', hint: '…1234' };
    expect(scrubText('"k\\u003ce\\u003ey\\u00261234"', [go])).toBe('"…1234"');
  });
});

describe('scrubText', () => {
  it('scrubs strings and returns the same string when there is nothing to hide', () => {
    const secrets = [secret('sk-live-XYZ9'), secret('csk-1234abcd')];
    expect(scrubText('Incorrect API key provided: sk-live-XYZ9 (csk-1234abcd)', secrets)).toBe(
      'Incorrect API key provided: …XYZ9 (…abcd)',
    );
    const clean = 'nothing here';
    expect(scrubText(clean, secrets)).toBe(clean);
    expect(scrubText('x', [])).toBe('x');
  });
});
