import { failureReason, upstreamUnavailable } from '../../../src/upstream/upstream-error';

const err = (code: string) => Object.assign(new Error(`boom ${code}`), { code });

describe('upstreamUnavailable', () => {
  it.each(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])(
    'makes %s a 504',
    (code) => {
      const e = upstreamUnavailable(err(code), (reason, timedOut) => `${reason} ${timedOut}`);
      expect(e).toMatchObject({ code: 'upstream_unavailable', status: 504 });
      expect(e.message).toBe(`${code} true`);
    },
  );

  it.each(['ECONNREFUSED', 'UND_ERR_SOCKET', 'ECONNRESET'])('makes %s a 502', (code) => {
    const e = upstreamUnavailable(err(code), (reason, timedOut) => `${reason} ${timedOut}`);
    expect(e).toMatchObject({ code: 'upstream_unavailable', status: 502 });
    expect(e.message).toBe(`${code} false`);
  });

  it('names an error without a code by its name, and never quotes its message', () => {
    expect(failureReason(new TypeError('sk-secret in a message'))).toBe('TypeError');
    const e = upstreamUnavailable(new Error('sk-secret'), (reason) => `failed (${reason})`);
    expect(e.message).toBe('failed (Error)');
  });
});
