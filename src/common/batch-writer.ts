/** The part of Nest's Logger the writer needs (tests pass a plain object). */
export interface BatchLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface BatchWriterOptions<T> {
  /** What is written (a table name): in log lines and the dropped-rows metric. */
  name: string;
  /** Writes one batch; throws when nothing of it was written. */
  insert(rows: T[]): Promise<void>;
  /** Called with the number of rows given up because the queue was full (a metric). */
  dropped(count: number): void;
  logger: BatchLogger;
  flushMs?: number;
  maxBatch?: number;
  /** Rows kept while the database is away; past that the oldest are dropped. */
  maxQueue?: number;
}

/**
 * Rows queued off the request path and written in batches: every `flushMs`, at once when a
 * batch is full, and a last time on shutdown (stop(), which the owning service calls from
 * beforeApplicationShutdown, while the database pool is still open). A failed write puts the
 * batch back for the next try; nothing is lost or doubled unless the queue outgrows `maxQueue`,
 * and then the oldest rows go, counted and logged.
 */
export class BatchWriter<T> {
  private queue: T[] = [];
  private droppedSinceLog = 0;
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

  /** Stops the timer and writes what is queued (one try). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  push(row: T): void {
    this.queue.push(row);
    this.trim();
    if (this.queue.length >= this.maxBatch) void this.flush();
  }

  /** Writes what is queued; one flush at a time. Reads and tests call it to see rows at once. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.queue.length) return;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(): Promise<void> {
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
    if (this.droppedSinceLog) {
      this.o.logger.error(
        `${this.droppedSinceLog} ${this.o.name} rows dropped: the database was away too long`,
      );
      this.droppedSinceLog = 0;
    }
  }

  private trim(): void {
    const over = this.queue.length - this.maxQueue;
    if (over <= 0) return;
    this.queue.splice(0, over);
    this.droppedSinceLog += over;
    this.o.dropped(over);
  }
}
