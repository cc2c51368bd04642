import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../../src/common/http/json-depth';

const deep = (n: number, open = '[', close = ']'): string => `${open.repeat(n)}${close.repeat(n)}`;
const check = (text: string, limit = MAX_JSON_DEPTH): boolean =>
  nestsDeeperThan(Buffer.from(text), limit);

describe('nestsDeeperThan', () => {
  it('counts objects and arrays, up to and past the limit', () => {
    expect(check(deep(32))).toBe(false);
    expect(check(deep(33))).toBe(true);
    expect(check(`${'{"a":'.repeat(32)}1${'}'.repeat(32)}`)).toBe(false);
    expect(check(`${'{"a":'.repeat(33)}1${'}'.repeat(33)}`)).toBe(true);
    expect(check('{"a":[1,{"b":[2]}],"c":{}}', 4)).toBe(false);
    expect(check('{"a":[1,{"b":[2]}],"c":{}}', 3)).toBe(true);
  });

  it('measures depth, not the number of brackets', () => {
    expect(check(`[${'[],'.repeat(10_000)}[]]`, 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(check(`{"a":"${'['.repeat(100)}"}`, 1)).toBe(false);
    expect(check(`{"a":"\\"${'{'.repeat(100)}\\\\"}`, 1)).toBe(false);
    expect(check(`{"a":"\\\\","b":${deep(5)}}`, 5)).toBe(true);
  });

  it('stops at the first level past the limit on a huge body', () => {
    const huge = Buffer.from(deep(1_000_000));
    expect(nestsDeeperThan(huge, MAX_JSON_DEPTH)).toBe(true);
  });
});
