import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CURSOR_PATTERN, decodeCursor, encodeCursor } from '../../../src/common/cursor';
import { queryInteger } from '../../../src/common/dto/query.transforms';
import {
  API_KEY_PATTERN,
  charCount,
  NAME_PATTERN,
  NO_CONTROLS_PATTERN,
} from '../../../src/common/dto/text.decorators';
import { DATE_OR_TIME_PATTERN, DATE_TIME_PATTERN } from '../../../src/common/iso-date';
import { RotateKeyDto } from '../../../src/keys/dto/key-input.dto';
import { AuditQueryDto } from '../../../src/audit/dto/audit.dto';
import { CreateTokenDto } from '../../../src/tokens/dto/create-token.dto';

/**
 * The OpenAPI document's patterns say exactly what the server's checks accept (schemathesis
 * holds the server to them: scripts/fuzz-api.sh). Each is compared with the check it documents.
 */

/** Whether the global ValidationPipe's options leave `field` of `dto` without a problem. */
async function accepts(cls: new () => object, body: object, field: string): Promise<boolean> {
  const errors = await validate(plainToInstance(cls, body), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  return !errors.some((e) => e.property === field);
}

/** A seeded generator, so a failure names a string that reproduces. */
function strings(pool: string[], count: number, maxLen: number, seed = 7): string[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () =>
    Array.from(
      { length: Math.floor(next() * maxLen) },
      () => pool[Math.floor(next() * pool.length)],
    ).join(''),
  );
}

// Controls, what trim removes, visible ASCII, quotes, a variation selector, astral characters.
const POOL = [
  '\u0000',
  '\t',
  '\n',
  '\u000b',
  '\u0085',
  '\u009f',
  ' ',
  '\u00a0',
  '\u2003',
  '\u3000',
  '\ufeff',
  'a',
  'Z',
  '0',
  '-',
  '"',
  '\\',
  '~',
  '\u00e9',
  '\ufe0f',
  '\u200b',
  '😀',
  '𝔘',
];

describe('documented patterns match the server', () => {
  it('NAME_PATTERN and maxLength 100 say what a token name may be', async () => {
    const name = new RegExp(NAME_PATTERN);
    const samples = [
      ...strings(POOL, 1500, 12),
      'x'.repeat(100),
      ` ${'x'.repeat(100)}`,
      '😀'.repeat(100),
    ];
    for (const s of samples) {
      const documented = name.test(s) && charCount(s) >= 1 && charCount(s) <= 100;
      expect([s, await accepts(CreateTokenDto, { name: s }, 'name')]).toEqual([s, documented]);
    }
  });

  it('API_KEY_PATTERN says what an apiKey may be', async () => {
    const key = new RegExp(API_KEY_PATTERN);
    for (const s of strings(POOL, 1500, 8, 11)) {
      const documented = key.test(s) && charCount(s) <= 4096;
      expect([s, await accepts(RotateKeyDto, { apiKey: s }, 'apiKey')]).toEqual([s, documented]);
    }
  });

  it('NO_CONTROLS_PATTERN and maxLength 255 say what a query id may be', async () => {
    const pattern = new RegExp(NO_CONTROLS_PATTERN);
    for (const s of [...strings(POOL, 500, 10, 3), '😀'.repeat(255), '😀'.repeat(256)]) {
      const documented = pattern.test(s) && charCount(s) <= 255;
      expect([s, await accepts(AuditQueryDto, { actorSub: s }, 'actorSub')]).toEqual([
        s,
        documented,
      ]);
    }
  });

  it('DATE_OR_TIME_PATTERN takes exactly the calendar dates 0001-01-01 to 9999-12-31', () => {
    const pattern = new RegExp(DATE_OR_TIME_PATTERN);
    for (const year of [1, 4, 100, 1900, 2000, 2023, 2024, 2100, 2400, 9999]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          const d = new Date(`${text}T00:00:00Z`);
          const real = d.getUTCMonth() + 1 === month && d.getUTCDate() === day;
          expect([text, pattern.test(text)]).toEqual([text, real]);
        }
      }
    }
    for (const bad of [
      '0000-01-01',
      '2026-1-01',
      '２０２６-01-01',
      '2026-01-01T10:00',
      '2026-01-01T24:00Z',
    ])
      expect([bad, pattern.test(bad)]).toEqual([bad, false]);
    for (const good of ['2026-01-01T10:00Z', '2026-01-01T23:59:59.123456789-23:59'])
      expect([good, pattern.test(good)]).toEqual([good, true]);
  });

  it('DATE_TIME_PATTERN is RFC 3339 with seconds and a zone', () => {
    const pattern = new RegExp(DATE_TIME_PATTERN);
    expect(pattern.test('2030-01-01T00:00:00Z')).toBe(true);
    expect(pattern.test('2030-01-01T00:00:00.5+01:00')).toBe(true);
    for (const bad of [
      '2030-01-01',
      '2030-01-01T00:00Z',
      '2030-01-01T00:00:60Z',
      '2030-02-30T00:00:00Z',
    ])
      expect([bad, pattern.test(bad)]).toEqual([bad, false]);
  });

  it('cursors have their documented shape, and every such string is a position', () => {
    const id = '0b9f4a51-3c5e-4e3a-9d1c-2f7b6a8e9c10';
    const cursor = encodeCursor({ at: new Date('2026-11-01T10:00:00.123Z'), id });
    expect(cursor).toMatch(new RegExp(CURSOR_PATTERN.uuid));
    expect(decodeCursor(cursor, 'uuid')).toEqual({ at: new Date('2026-11-01T10:00:00.123Z'), id });
    expect(decodeCursor('999999999999999_123456789012345678', 'bigint')?.at.getTime()).toBe(
      999999999999999,
    );
    for (const bad of ['', 'nope', `1_${id}_x`, `_${id}`, `1_${id}`.replace(/-/g, '')])
      expect(() => decodeCursor(bad, 'uuid')).toThrow(/cursor/);
  });

  it('integer query values are read as OpenAPI tools read them', () => {
    const read = (value: string) => queryInteger({ value });
    expect([read('5'), read('+5'), read('-3'), read('007')]).toEqual([5, 5, -3, 7]);
    for (const text of ['1.5', '0x10', '1e3', ' 5', '', '5 ', '٣']) expect(read(text)).toBe(text);
  });
});
