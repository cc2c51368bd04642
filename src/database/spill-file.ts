import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { AppConfig } from '../config/app-config';
import type { Spill } from '../common/batch-writer';

const READ_CHUNK = 1 << 20;

/**
 * Rows that did not fit in memory while the database was away, as JSON lines in an append-only
 * file under DATA_DIR (0600), replayed oldest first. How far replay got is kept beside it
 * (`.offset`), so a restart neither loses nor repeats what was written; a line cut short by a
 * crash is skipped.
 */
export class SpillFile<T> implements Spill<T> {
  private readonly offsetFile: string;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    /** Fields holding dates: JSON has none, so they are revived by name. */
    private readonly dateFields: readonly string[] = [],
  ) {
    this.offsetFile = `${file}.offset`;
  }

  get pending(): boolean {
    return existsSync(this.file) && statSync(this.file).size > this.offset();
  }

  append(rows: T[]): number {
    const size = existsSync(this.file) ? statSync(this.file).size : 0;
    // After a crash mid-append the file may end inside a line: start a new one.
    const lead = size > 0 && this.lastByte(size) !== 0x0a ? '\n' : '';
    const text = lead + rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    if (size + Buffer.byteLength(text) > this.maxBytes) return rows.length;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    appendFileSync(this.file, text, { mode: 0o600 });
    return 0;
  }

  read(max: number): { rows: T[]; next: number } | undefined {
    if (!existsSync(this.file)) return undefined;
    const start = this.offset();
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(READ_CHUNK);
      const n = readSync(fd, buf, 0, READ_CHUNK, start);
      if (n === 0) return undefined;
      const rows: T[] = [];
      let pos = 0;
      while (rows.length < max) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0 || nl >= n) break;
        const row = this.parse(buf.toString('utf8', pos, nl));
        if (row !== undefined) rows.push(row);
        pos = nl + 1;
      }
      // A line longer than the chunk, or cut short at the end: skip it rather than stall.
      if (pos === 0) return { rows, next: start + n };
      return { rows, next: start + pos };
    } finally {
      closeSync(fd);
    }
  }

  commit(next: number): void {
    if (next >= statSync(this.file).size) {
      rmSync(this.file, { force: true });
      rmSync(this.offsetFile, { force: true });
    } else {
      writeFileSync(this.offsetFile, String(next), { mode: 0o600 });
    }
  }

  private lastByte(size: number): number {
    const fd = openSync(this.file, 'r');
    try {
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, size - 1);
      return b[0];
    } finally {
      closeSync(fd);
    }
  }

  private offset(): number {
    if (!existsSync(this.offsetFile)) return 0;
    const n = Number(readFileSync(this.offsetFile, 'utf8'));
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }

  private parse(line: string): T | undefined {
    try {
      const row = JSON.parse(line) as Record<string, unknown>;
      for (const f of this.dateFields) if (typeof row[f] === 'string') row[f] = new Date(row[f]);
      return row as T;
    } catch {
      return undefined;
    }
  }
}

/** The spill file of one table, under DATA_DIR/spill. */
export function spillFor<T>(
  config: Pick<AppConfig, 'dataDir' | 'rowBuffer'>,
  table: string,
  dateFields: readonly string[],
): SpillFile<T> {
  const file = join(config.dataDir, 'spill', `${table}.jsonl`);
  return new SpillFile<T>(file, config.rowBuffer.spillMaxBytes, dateFields);
}
