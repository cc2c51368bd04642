import { Breaker } from '../../../src/common/breaker';
import { ResilientCache } from '../../../src/common/resilient-cache';

function setup() {
  let now = 1_000_000;
  const cache = new ResilientCache<string>({
    freshMs: 1000,
    staleMaxMs: 10_000,
    waitMs: 20,
    loadTimeoutMs: 100,
    minBackoffMs: 500,
    maxBackoffMs: 2000,
    now: () => now,
  });
  return { cache, tick: (ms: number) => (now += ms) };
}
const never = () => new Promise<string>(() => undefined);
const fail = () => Promise.reject(new Error('database away'));

describe('ResilientCache', () => {
  it('serves a fresh value without loading, and reloads once it expires', async () => {
    const { cache, tick } = setup();
    const load = jest.fn().mockResolvedValueOnce('v1').mockResolvedValueOnce('v2');
    expect(await cache.get('k', load)).toBe('v1');
    expect(await cache.get('k', load)).toBe('v1');
    tick(1001);
    expect(await cache.get('k', load)).toBe('v2');
    expect(load).toHaveBeenCalledTimes(2);
    expect(load).toHaveBeenLastCalledWith('v1');
  });

  it('serves the last value when a reload fails or hangs, and pauses loads after a failure', async () => {
    const { cache, tick } = setup();
    await cache.get('k', () => Promise.resolve('known'));
    tick(1001);
    expect(await cache.get('k', fail)).toBe('known');
    expect(cache.failing).toBe(true);
    // Within the backoff nobody tries (or waits for) a load.
    const load = jest.fn(never);
    expect(await cache.get('k', load)).toBe('known');
    expect(load).not.toHaveBeenCalled();
    tick(501);
    expect(await cache.get('k', load)).toBe('known'); // waited 20 ms, then the known value
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('fails fast for a value never loaded while loads are paused, and recovers', async () => {
    const { cache, tick } = setup();
    await expect(cache.get('a', fail)).rejects.toThrow('database away');
    const load = jest.fn(() => Promise.resolve('late'));
    await expect(cache.get('b', load)).rejects.toThrow('database away');
    expect(load).not.toHaveBeenCalled();
    tick(501);
    expect(await cache.get('b', load)).toBe('late');
    expect(cache.failing).toBe(false);
  });

  it('times a hanging first load out, and stops serving a value past staleMaxMs', async () => {
    const { cache, tick } = setup();
    await expect(cache.get('k', never)).rejects.toThrow(/no answer in 100 ms/);
    tick(501);
    await cache.get('k', () => Promise.resolve('known'));
    tick(10_001);
    await expect(cache.get('k', fail)).rejects.toThrow('database away');
  });

  it('shares one breaker per dependency: a failure in one cache pauses the other, a success anywhere resumes both', async () => {
    const now = 1_000_000;
    const timing = { minBackoffMs: 500, maxBackoffMs: 2000, now: () => now };
    const breaker = new Breaker(timing);
    const options = { freshMs: 1000, staleMaxMs: 10_000, waitMs: 20, loadTimeoutMs: 100 };
    const keys = new ResilientCache<string>({ ...options, ...timing, breaker });
    const tokens = new ResilientCache<string>({ ...options, ...timing, breaker });
    await expect(keys.get('k', fail)).rejects.toThrow('database away');
    const load = jest.fn(() => Promise.resolve('t'));
    await expect(tokens.get('t', load)).rejects.toThrow('database away');
    expect(load).not.toHaveBeenCalled();
    expect(tokens.failing).toBe(true);
    breaker.succeeded(); // e.g. a /readyz probe reached the database
    expect(await tokens.get('t', load)).toBe('t');
    expect(keys.failing).toBe(false);
  });

  it('keeps no value loaded for an entry deleted meanwhile', async () => {
    const { cache } = setup();
    let release: (v: string) => void = () => undefined;
    const pending = cache.get('k', () => new Promise<string>((r) => (release = r)));
    cache.delete('k');
    release('old');
    expect(await pending).toBe('old');
    expect(await cache.get('k', () => Promise.resolve('new'))).toBe('new');
  });
});
