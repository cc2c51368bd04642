import { AsyncLocalStorage } from 'node:async_hooks';
import { BatchWriter } from '../../../src/common/batch-writer';

function writer(opts: { failTimes?: number; maxQueue?: number; maxBatch?: number } = {}) {
  const written: number[] = [];
  const dropped: number[] = [];
  const logs: string[] = [];
  let failures = opts.failTimes ?? 0;
  const w = new BatchWriter<number>({
    name: 'rows',
    insert: (rows) => {
      if (failures > 0) {
        failures--;
        return Promise.reject(new Error('database away'));
      }
      written.push(...rows);
      return Promise.resolve();
    },
    dropped: (n) => dropped.push(n),
    logger: { warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
    maxQueue: opts.maxQueue,
    maxBatch: opts.maxBatch,
  });
  return { w, written, dropped, logs };
}

describe('BatchWriter', () => {
  it('writes queued rows in order, in batches of maxBatch', async () => {
    const { w, written } = writer({ maxBatch: 1000 });
    for (let i = 0; i < 5; i++) w.push(i);
    expect(written).toEqual([]);
    await w.flush();
    expect(written).toEqual([0, 1, 2, 3, 4]);
    expect(w.queued).toBe(0);
  });

  it('keeps a batch whose write failed and writes it once on the next try', async () => {
    const { w, written, logs } = writer({ failTimes: 1 });
    w.push(1);
    w.push(2);
    await w.flush();
    expect(written).toEqual([]);
    expect(w.queued).toBe(2);
    expect(logs).toEqual(['warn rows write failed, will retry: database away']);
    w.push(3);
    await w.flush();
    expect(written).toEqual([1, 2, 3]);
  });

  it('drops the oldest rows past maxQueue, counts them for the metric and logs them once', async () => {
    const { w, written, dropped, logs } = writer({ failTimes: 1, maxQueue: 3, maxBatch: 100 });
    for (let i = 0; i < 5; i++) w.push(i);
    expect(dropped).toEqual([1, 1]);
    await w.flush(); // fails: the rows stay queued
    expect(logs.at(-1)).toBe('error 2 rows rows dropped: the database was away too long');
    await w.flush();
    expect(written).toEqual([2, 3, 4]);
  });

  it('writes what is queued on stop, and its timer does not keep the process alive', async () => {
    const { w, written } = writer();
    w.start();
    w.push(7);
    await w.stop();
    expect(written).toEqual([7]);
  });

  it('flushes at once when a batch is full', async () => {
    const { w, written } = writer({ maxBatch: 2 });
    w.push(1);
    await new Promise(setImmediate);
    expect(written).toEqual([]);
    w.push(2); // no timer running, no flush() called: the full batch goes by itself
    await new Promise(setImmediate);
    expect(written).toEqual([1, 2]);
  });

  it('writes a batch a request filled outside that request (no trace of it gets the INSERT)', async () => {
    // A traced request's spans follow its async context; the write it happens to trigger is
    // background work and must not inherit that context.
    const request = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const w = new BatchWriter<number>({
      name: 'rows',
      insert: () => {
        seen.push(request.getStore());
        return Promise.resolve();
      },
      dropped: () => undefined,
      logger: { warn: () => undefined, error: () => undefined },
      maxBatch: 2,
    });
    request.run('request 1', () => {
      w.push(1);
      w.push(2);
    });
    await w.flush();
    expect(seen).toEqual([undefined]);
  });
});
