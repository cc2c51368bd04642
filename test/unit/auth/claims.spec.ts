import { callerFromClaims, claimMatches, readClaim, setClaim } from '../../../src/auth/claims';
import { AppError } from '../../../src/common/errors/app-error';
import { loadConfig } from '../../../src/config/app-config';

const rules = loadConfig({}).auth;

describe('readClaim', () => {
  it('reads top-level and dot-path claims', () => {
    expect(readClaim({ org_id: 'acme' }, 'org_id')).toBe('acme');
    expect(readClaim({ o: { id: 'org_1', rol: 'admin' } }, 'o.id')).toBe('org_1');
    expect(readClaim({ o: { id: 'org_1' } }, 'o.missing')).toBeUndefined();
    expect(readClaim({ o: 'flat' }, 'o.id')).toBeUndefined();
    expect(readClaim({ o: ['x'] }, 'o.0')).toBeUndefined();
  });

  it('prefers a literal key containing dots (Auth0 namespaced claims)', () => {
    const claims = { 'https://example.com/org': 'lit', https: { example: 'nested' } };
    expect(readClaim(claims, 'https://example.com/org')).toBe('lit');
  });

  it('does not walk into the prototype', () => {
    expect(readClaim({}, 'constructor.name')).toBeUndefined();
    expect(readClaim({ a: {} }, 'a.toString')).toBeUndefined();
  });
});

describe('claimMatches', () => {
  it('compares as text, so true matches "true" and 1 matches "1"', () => {
    expect(claimMatches(true, 'true')).toBe(true);
    expect(claimMatches('true', 'true')).toBe(true);
    expect(claimMatches(false, 'true')).toBe(false);
    expect(claimMatches(1, '1')).toBe(true);
    expect(claimMatches({ v: 'true' }, 'true')).toBe(false);
    expect(claimMatches(undefined, 'true')).toBe(false);
    expect(claimMatches(null, 'null')).toBe(false);
  });

  it('matches an array that contains the value', () => {
    expect(claimMatches(['member', 'admin'], 'admin')).toBe(true);
    expect(claimMatches(['member'], 'admin')).toBe(false);
    expect(claimMatches([true], 'true')).toBe(true);
    expect(claimMatches([], 'admin')).toBe(false);
  });
});

describe('callerFromClaims', () => {
  it('maps default claim names', () => {
    expect(
      callerFromClaims(
        { sub: 'alice', org_id: 'acme', org_role: 'admin', byok_admin: true },
        rules,
      ),
    ).toEqual({ kind: 'jwt', sub: 'alice', orgId: 'acme', orgAdmin: true, admin: true });
    expect(callerFromClaims({ sub: 'bob' }, rules)).toEqual({
      kind: 'jwt',
      sub: 'bob',
      orgId: undefined,
      orgAdmin: false,
      admin: false,
    });
  });

  it("reads Clerk's nested org claims and array roles", () => {
    const clerk = {
      ...rules,
      orgClaim: 'o.id',
      orgRoleClaim: 'o.rol',
      orgAdminValue: 'admin',
      adminClaim: 'roles',
      adminValue: 'byok-admin',
    };
    const caller = callerFromClaims(
      { sub: 'user_1', o: { id: 'org_9', rol: ['member', 'admin'] }, roles: ['byok-admin'] },
      clerk,
    );
    expect(caller).toMatchObject({ orgId: 'org_9', orgAdmin: true, admin: true });
  });

  it('needs an org for org admin, and the right value for admin', () => {
    expect(callerFromClaims({ sub: 'a', org_role: 'admin' }, rules).orgAdmin).toBe(false);
    expect(callerFromClaims({ sub: 'a', byok_admin: 'yes' }, rules).admin).toBe(false);
    expect(callerFromClaims({ sub: 'a', org_id: 42 }, rules).orgId).toBe('42');
  });

  it('refuses a sub or org id that is too long or holds control characters, naming the claim', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ sub: 'a'.repeat(256) }, /^JWT "sub" claim is longer than 255 characters$/],
      [{ sub: 'ali\u0000ce' }, /^JWT "sub" claim contains control characters/],
      [{ sub: 'alice\n' }, /^JWT "sub" claim contains control characters/],
      [{ sub: 'alice', org_id: 'o'.repeat(256) }, /^JWT "org_id" claim is longer than 255/],
      [{ sub: 'alice', org_id: 'ac\u0000me' }, /^JWT "org_id" claim contains control characters/],
    ];
    for (const [claims, message] of cases) {
      expect(() => callerFromClaims(claims, rules)).toThrow(AppError);
      expect(() => callerFromClaims(claims, rules)).toThrow(message);
    }
    const clerk = { ...rules, orgClaim: 'o.id' };
    expect(() => callerFromClaims({ sub: 'a', o: { id: '\u0007' } }, clerk)).toThrow(/"o\.id"/);
    expect(callerFromClaims({ sub: 'a'.repeat(255), org_id: 'é-ü' }, rules)).toMatchObject({
      orgId: 'é-ü',
    });
  });

  it('refuses a token without a string sub', () => {
    for (const claims of [{}, { sub: '' }, { sub: 7 }]) {
      expect(() => callerFromClaims(claims, rules)).toThrow(AppError);
      expect(() => callerFromClaims(claims, rules)).toThrow(/"sub"/);
    }
  });
});

describe('setClaim', () => {
  it('writes what readClaim reads, creating nested objects', () => {
    const claims: Record<string, unknown> = { sub: 'a' };
    setClaim(claims, 'o.id', 'org_1');
    setClaim(claims, 'o.rol', 'admin');
    setClaim(claims, 'byok_admin', true);
    expect(claims).toEqual({ sub: 'a', o: { id: 'org_1', rol: 'admin' }, byok_admin: true });
    expect(readClaim(claims, 'o.rol')).toBe('admin');
  });
});
