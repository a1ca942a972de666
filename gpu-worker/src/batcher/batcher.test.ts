// The batcher's rules with a runner the test controls: size or delay closes a batch, the queue is
// bounded, a request waits no longer than its deadline, and closing lets queued work finish.
import { describe, expect, it } from 'vitest';
import { WorkerError } from '../errors.js';
import { Batcher } from './index.js';

/** A runner that records each batch and finishes it only when told to. */
function controlledRunner() {
  const batches: number[][] = [];
  const release: (() => void)[] = [];
  const run = (items: number[]) =>
    new Promise<number[]>((resolve) => {
      batches.push(items);
      release.push(() => resolve(items.map((x) => x * 10)));
    });
  return { run, batches, releaseAll: () => release.splice(0).forEach((r) => r()) };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('Batcher', () => {
  it('runs a batch as soon as it reaches the max batch size', async () => {
    const runner = controlledRunner();
    const batcher = new Batcher(runner.run, { maxBatchSize: 3, maxDelayMs: 10_000, maxQueue: 100 });
    const results = [1, 2, 3].map((x) => batcher.submit(x));
    await tick();
    expect(runner.batches).toEqual([[1, 2, 3]]);
    runner.releaseAll();
    expect(await Promise.all(results)).toEqual([10, 20, 30]);
  });

  it('runs a partial batch once the oldest request has waited the max delay', async () => {
    const runner = controlledRunner();
    const batcher = new Batcher(runner.run, { maxBatchSize: 8, maxDelayMs: 30, maxQueue: 100 });
    const results = [batcher.submit(1), batcher.submit(2)];
    await tick(5);
    expect(runner.batches).toEqual([]);
    await tick(60);
    expect(runner.batches).toEqual([[1, 2]]);
    runner.releaseAll();
    expect(await Promise.all(results)).toEqual([10, 20]);
  });

  it('runs one batch at a time and gathers what arrives meanwhile into the next', async () => {
    const runner = controlledRunner();
    const batcher = new Batcher(runner.run, { maxBatchSize: 4, maxDelayMs: 0, maxQueue: 100 });
    const first = batcher.submit(1);
    await tick(5);
    const rest = [2, 3, 4].map((x) => batcher.submit(x));
    await tick(5);
    expect(runner.batches).toEqual([[1]]);
    runner.releaseAll();
    await first;
    await tick(5);
    expect(runner.batches).toEqual([[1], [2, 3, 4]]);
    runner.releaseAll();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('refuses work past the queue bound with queue-full and a Retry-After', async () => {
    const runner = controlledRunner();
    const batcher = new Batcher(runner.run, { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 2 });
    const running = batcher.submit(1);
    await tick(5);
    const queued = [batcher.submit(2), batcher.submit(3)];
    const refused = batcher.submit(4);
    await expect(refused).rejects.toBeInstanceOf(WorkerError);
    await expect(refused).rejects.toMatchObject({ kind: 'queue-full' });
    expect(((await refused.catch((e: WorkerError) => e)) as WorkerError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 3; i++) {
      runner.releaseAll();
      await tick(5);
    }
    expect(await Promise.all([running, ...queued])).toEqual([10, 20, 30]);
  });

  it('rejects a request still queued at its deadline, and never runs it', async () => {
    const runner = controlledRunner();
    const batcher = new Batcher(runner.run, { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 10 });
    const running = batcher.submit(1);
    await tick(5);
    const late = batcher.submit(2, 20);
    await expect(late).rejects.toMatchObject({ kind: 'deadline' });
    expect(batcher.depth).toBe(0);
    runner.releaseAll();
    await running;
    await tick(5);
    expect(runner.batches).toEqual([[1]]);
  });

  it('fails every request of a batch whose run fails', async () => {
    const batcher = new Batcher<number, number>(async () => Promise.reject(new Error('boom')), { maxBatchSize: 2, maxDelayMs: 0, maxQueue: 10 });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ kind: 'inference' });
  });

  it('after close refuses new work but finishes what is queued', async () => {
    const runner = controlledRunner();
    const batcher = new Batcher(runner.run, { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 10 });
    const queued = [batcher.submit(1), batcher.submit(2)];
    batcher.close();
    await expect(batcher.submit(3)).rejects.toMatchObject({ kind: 'not-ready' });
    const idle = batcher.idle();
    for (let i = 0; i < 2; i++) {
      await tick(5);
      runner.releaseAll();
    }
    await idle;
    expect(await Promise.all(queued)).toEqual([10, 20]);
  });
});
