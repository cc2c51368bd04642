import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriter } from '../../../src/common/batch-writer';
import { SpillFile } from '../../../src/database/spill-file';

interface Row {
  n: number;
  at: Date;
}
const row = (n: number): Row => ({ n, at: new Date(1_700_000_000_000 + n) });

describe('SpillFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'byok-spill-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replays rows oldest first, reviving dates, and remembers how far it got', () => {
    const file = join(dir, 'a', 'rows.jsonl');
    const spill = new SpillFile<Row>(file, 1 << 20, ['at']);
    expect(spill.pending).toBe(false);
    expect(spill.append([row(1), row(2), row(3)])).toBe(0);
    expect(statSync(file).mode & 0o077).toBe(0);
    const first = spill.read(2)!;
    expect(first.rows).toEqual([row(1), row(2)]);
    spill.commit(first.next);
    // A new reader (a restart) starts where the last one committed.
    const again = new SpillFile<Row>(file, 1 << 20, ['at']);
    const rest = again.read(10)!;
    expect(rest.rows).toEqual([row(3)]);
    again.commit(rest.next);
    expect(again.pending).toBe(false);
  });

  it('skips a line cut short by a crash, and refuses rows past its size', () => {
    const file = join(dir, 'b.jsonl');
    const spill = new SpillFile<Row>(file, 200, ['at']);
    spill.append([row(1)]);
    appendFileSync(file, '{"n":2,"at":"20'); // the crash
    spill.append([row(3)]);
    expect(spill.read(10)!.rows).toEqual([row(1), row(3)]);
    expect(spill.append([row(4), row(5), row(6)])).toBe(3);
  });
});

describe('BatchWriter with a spill', () => {
  it('spills past the memory bound, replays the spill first, and spills what is left at stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'byok-spill-writer-'));
    try {
      let up = false;
      const written: number[] = [];
      const spill = new SpillFile<Row>(join(dir, 'rows.jsonl'), 1 << 20, ['at']);
      const make = () =>
        new BatchWriter<Row>({
          name: 'rows',
          insert: (rows) => {
            if (!up) return Promise.reject(new Error('database away'));
            written.push(...rows.map((r) => r.n));
            return Promise.resolve();
          },
          dropped: () => undefined,
          logger: { warn: () => undefined, error: () => undefined },
          maxQueue: 3,
          maxBatch: 100,
          spill,
        });
      const w = make();
      for (let n = 1; n <= 5; n++) w.push(row(n));
      expect(w.queued).toBe(1); // the 4th row over 3 sent all four to disk at once
      w.push(row(6));
      await w.stop(); // still down: row 6 spills too
      expect(spill.pending).toBe(true);
      up = true;
      const next = make();
      next.push(row(7));
      await next.flush();
      expect(written).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(spill.pending).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
