// The dynamic batcher of one model: requests wait until max batch size or max delay (since the
// oldest arrived), whichever comes first, then run together in one forward pass. One batch runs at
// a time per model; the queue is bounded and every request has a deadline while it waits.
import { WorkerError } from '../errors.js';

export interface BatcherOptions {
  maxBatchSize: number;
  maxDelayMs: number;
  /** Most requests waiting (not yet in a running batch); past it submit fails with 'queue-full'. */
  maxQueue: number;
}

/** What the batcher reports as it works (the metrics hook in here). */
export interface BatcherObserver {
  queueDepth?(depth: number): void;
  batchRan?(size: number, seconds: number): void;
}

interface Waiting<In, Out> {
  item: In;
  arrived: number;
  resolve(out: Out): void;
  reject(error: unknown): void;
  deadlineTimer?: NodeJS.Timeout;
}

export class Batcher<In, Out> {
  private queue: Waiting<In, Out>[] = [];
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Smoothed seconds per batch, for Retry-After. */
  private batchSeconds = 0.01;

  constructor(
    private readonly runBatch: (items: In[]) => Promise<Out[]>,
    private readonly options: BatcherOptions,
    private readonly observer: BatcherObserver = {},
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  /** Seconds until a full queue has probably drained: the Retry-After of a refusal. */
  retryAfterSeconds(): number {
    const batches = Math.ceil((this.queue.length + 1) / this.options.maxBatchSize);
    return Math.max(1, Math.ceil(batches * this.batchSeconds));
  }

  /** Queues one item; resolves with its result, or rejects ('queue-full', 'deadline', 'not-ready', or the run's error). */
  submit(item: In, deadlineMs?: number): Promise<Out> {
    if (this.closed) return Promise.reject(new WorkerError('not-ready', 'the worker is shutting down', 5));
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new WorkerError('queue-full', `the queue is full (${this.options.maxQueue} waiting)`, this.retryAfterSeconds()));
    }
    return new Promise<Out>((resolve, reject) => {
      const waiting: Waiting<In, Out> = { item, arrived: performance.now(), resolve, reject };
      if (deadlineMs !== undefined) {
        waiting.deadlineTimer = setTimeout(() => {
          const at = this.queue.indexOf(waiting);
          if (at < 0) return; // already running: its result is moments away
          this.queue.splice(at, 1);
          this.observer.queueDepth?.(this.queue.length);
          reject(new WorkerError('deadline', `the request waited ${deadlineMs} ms in the queue without being served`, this.retryAfterSeconds()));
          this.notifyIfIdle();
        }, deadlineMs);
      }
      this.queue.push(waiting);
      this.observer.queueDepth?.(this.queue.length);
      this.schedule();
    });
  }

  /** Refuses new work; queued work runs at once (no one is left to wait for). */
  close(): void {
    this.closed = true;
    if (this.timer && !this.running) {
      this.clearTimer();
      void this.flush();
    }
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatchSize || this.closed) {
      this.clearTimer();
      void this.flush();
      return;
    }
    if (this.timer) return;
    const waited = performance.now() - this.queue[0]!.arrived;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, Math.max(0, this.options.maxDelayMs - waited));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    for (const w of batch) clearTimeout(w.deadlineTimer);
    this.observer.queueDepth?.(this.queue.length);
    this.running = true;
    const started = performance.now();
    try {
      const results = await this.runBatch(batch.map((w) => w.item));
      const seconds = (performance.now() - started) / 1000;
      this.batchSeconds = 0.8 * this.batchSeconds + 0.2 * seconds;
      this.observer.batchRan?.(batch.length, seconds);
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      const failure = error instanceof WorkerError ? error : new WorkerError('inference', `inference failed: ${(error as Error).message}`);
      for (const w of batch) w.reject(failure);
    } finally {
      this.running = false;
      this.schedule();
      this.notifyIfIdle();
    }
  }

  private notifyIfIdle(): void {
    if (this.running || this.queue.length > 0) return;
    this.clearTimer();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
