import { AsyncResource } from 'node:async_hooks';

/** The part of Nest's Logger the writer needs (tests pass a plain object). */
export interface BatchLogger {
  warn(message: string): void;
  error(message: string): void;
}

/** Where rows go when the memory queue is full: replayed, oldest first, before newer rows. */
export interface Spill<T> {
  readonly pending: boolean;
  /** Appends rows, oldest first; returns how many could not be kept (the spill is full). */
  append(rows: T[]): number;
  /** Up to `max` of the oldest rows not yet replayed, and the position after them. */
  read(max: number): { rows: T[]; next: number } | undefined;
  /** Marks everything before `next` as written. */
  commit(next: number): void;
}

export interface BatchWriterOptions<T> {
  /** What is written (a table name): in log lines and the dropped-rows metric. */
  name: string;
  /** Writes one batch; throws when nothing of it was written. */
  insert(rows: T[]): Promise<void>;
  /** Called with the number of rows given up because the queue was full (a metric). */
  dropped(count: number): void;
  /** Called with the number of rows written to the spill (a metric). */
  spilled?(count: number): void;
  logger: BatchLogger;
  flushMs?: number;
  maxBatch?: number;
  /** Rows kept in memory while the database is away; past that the oldest spill (or drop). */
  maxQueue?: number;
  spill?: Spill<T>;
}

/**
 * Rows queued off the request path and written in batches: every `flushMs`, at once when a
 * batch is full, and a last time on shutdown (stop(), which the owning service calls from
 * beforeApplicationShutdown, while the database pool is still open). A failed write puts the
 * batch back for the next try. Past `maxQueue` rows in memory the oldest go to the spill file,
 * which is replayed first once the database answers (and at start, after a crash); only rows
 * the spill cannot hold are dropped, counted in a metric and logged at most once a minute. What
 * is still queued at shutdown is spilled too.
 */
export class BatchWriter<T> {
  private queue: T[] = [];
  private droppedSinceLog = 0;
  private loggedDropAt = 0;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly maxBatch: number;
  private readonly maxQueue: number;

  constructor(private readonly o: BatchWriterOptions<T>) {
    this.maxBatch = o.maxBatch ?? 500;
    this.maxQueue = o.maxQueue ?? 50_000;
  }

  get queued(): number {
    return this.queue.length;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.o.flushMs ?? 1000);
    this.timer.unref();
  }

  /** Stops the timer and writes what is queued (one try); what could not be written spills. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.o.spill && this.queue.length) this.spillOut(this.queue.splice(0, this.queue.length));
  }

  push(row: T): void {
    this.queue.push(row);
    this.trim();
    if (this.queue.length >= this.maxBatch) this.flushDetached();
  }

  /**
   * flush() in the async context the writer was made in (start-up), not the pushing request's:
   * the write is background work, so a traced request's spans must not adopt its queries.
   */
  private readonly flushDetached = AsyncResource.bind(() => void this.flush());

  /** Writes what is queued; one flush at a time. Reads and tests call it to see rows at once. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.queue.length && !this.o.spill?.pending) return;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(): Promise<void> {
    try {
      await this.replay();
    } catch (e) {
      this.o.logger.warn(`${this.o.name} write failed, will retry: ${(e as Error).message}`);
      return;
    }
    const batch = this.queue.splice(0, this.queue.length);
    let i = 0;
    try {
      for (; i < batch.length; i += this.maxBatch)
        await this.o.insert(batch.slice(i, i + this.maxBatch));
    } catch (e) {
      // Put back what was not written for the next try: nothing is lost, nothing doubled.
      this.queue = batch.slice(i).concat(this.queue);
      this.trim();
      this.o.logger.warn(`${this.o.name} write failed, will retry: ${(e as Error).message}`);
    }
    if (this.droppedSinceLog && Date.now() - this.loggedDropAt >= 60_000) {
      this.o.logger.error(
        `${this.droppedSinceLog} ${this.o.name} rows dropped: the database was away too long`,
      );
      this.droppedSinceLog = 0;
      this.loggedDropAt = Date.now();
    }
  }

  /** Spilled rows first: they are older than anything in memory. */
  private async replay(): Promise<void> {
    const spill = this.o.spill;
    for (let part = spill?.read(this.maxBatch); spill && part; part = spill.read(this.maxBatch)) {
      if (part.rows.length) await this.o.insert(part.rows);
      spill.commit(part.next);
    }
  }

  private trim(): void {
    const over = this.queue.length - this.maxQueue;
    if (over <= 0) return;
    // Spilled a batch at a time, so a long outage costs one file append per batch of requests.
    const out = this.queue.splice(0, this.o.spill ? Math.max(over, this.maxBatch) : over);
    if (this.o.spill) this.spillOut(out);
    else this.drop(out.length);
  }

  private spillOut(rows: T[]): void {
    let lost: number;
    try {
      lost = this.o.spill?.append(rows) ?? rows.length;
    } catch (e) {
      this.o.logger.warn(`${this.o.name} could not spill to disk: ${(e as Error).message}`);
      lost = rows.length;
    }
    if (lost) this.drop(lost);
    if (rows.length > lost) this.o.spilled?.(rows.length - lost);
  }

  private drop(count: number): void {
    this.droppedSinceLog += count;
    this.o.dropped(count);
  }
}
