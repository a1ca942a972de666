// Rendezvous order, the circuit breaker, the pool's deadline and what it makes of a worker's 409 or
// of an image under another key, in isolation.
import { IMAGE_KEY_HEADER, WORKER_STORAGE_PROBLEM_TYPE, type WorkerImageRequest } from '@imf/contract';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import { rendezvousOrder } from './rendezvous.js';
import { VERSION_SKEW_RETRY_AFTER_SECONDS, WorkerPool } from './index.js';

const workers = ['http://w0', 'http://w1', 'http://w2', 'http://w3'];
const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);

describe('rendezvous hashing', () => {
  it('ranks the same workers the same way for a key, whatever their listed order', () => {
    expect(rendezvousOrder(workers, 'abc')).toEqual(rendezvousOrder([...workers].reverse(), 'abc'));
  });

  it('spreads keys evenly over the workers', () => {
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(rendezvousOrder(workers, key)[0]!, (counts.get(rendezvousOrder(workers, key)[0]!) ?? 0) + 1);
    for (const worker of workers) expect(counts.get(worker)).toBeGreaterThan(400);
  });

  it('moves only the removed worker’s keys when a worker leaves', () => {
    const fewer = workers.slice(0, 3);
    for (const key of keys) {
      const before = rendezvousOrder(workers, key)[0]!;
      if (before !== 'http://w3') expect(rendezvousOrder(fewer, key)[0]).toBe(before);
    }
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold of consecutive failures', () => {
    const breaker = new CircuitBreaker(2, 1000);
    breaker.failure(0);
    expect(breaker.tryAcquire(0)).toBe(true);
    breaker.failure(0);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire(500)).toBe(false);
    expect(breaker.retryInMs(500)).toBe(500);
  });

  it('lets one trial through after the cool-down, and closes on its success', () => {
    const breaker = new CircuitBreaker(1, 1000);
    breaker.failure(0);
    expect(breaker.tryAcquire(1000)).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire(1000)).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
  });

  it('opens again when the trial fails', () => {
    const breaker = new CircuitBreaker(3, 1000);
    breaker.trip(0);
    expect(breaker.tryAcquire(1500)).toBe(true);
    breaker.failure(1500);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire(1600)).toBe(false);
  });

  it('resets the failure count on success', () => {
    const breaker = new CircuitBreaker(2, 1000);
    breaker.failure(0);
    breaker.success();
    breaker.failure(0);
    expect(breaker.state).toBe('closed');
  });
});

const key = 'a'.repeat(64);
const body: WorkerImageRequest = { request: { model: 'm', class: 0, guidance: 1, tmin: 0, tmax: 1, seed: 0, format: 'png', size: 28 }, modelVersion: 'v' };
const image = (answeredKey: string) => new Response(new Uint8Array([1]), { headers: { 'content-type': 'image/png', [IMAGE_KEY_HEADER]: answeredKey } });

describe('WorkerPool deadline', () => {
  // A worker that answers after 400 ms, unless the call is aborted first.
  const slowFetch: typeof fetch = (_input, init) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(image(key)), 400);
      init?.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
  const pool = () => new WorkerPool({ workerUrls: ['http://w1'], secret: 's', deadlineMs: 50, breakerThreshold: 3, breakerCooldownMs: 1000, backoffBaseMs: 1, readyTimeoutMs: 100, attemptMs: 10_000, maxInFlight: 0, fetch: slowFetch });

  it('gives up at the deadline', async () => {
    expect(await pool().generate(key, body)).toMatchObject({ ok: false, status: 504, detail: 'no GPU worker answered within 50 ms' });
  });

  it("waits the model's allowance beyond the deadline", async () => {
    expect(await pool().generate(key, body, 2000)).toMatchObject({ ok: true });
  });
});

/** A pool over `urls` whose workers answer as `answer` says, counting the calls each gets. */
function scriptedPool(urls: string[], answer: (url: string) => Response, options: { breakerThreshold?: number } = {}) {
  const calls = new Map<string, number>();
  const logs: Record<string, unknown>[] = [];
  const pool = new WorkerPool({
    workerUrls: urls,
    secret: 's',
    deadlineMs: 1000,
    breakerThreshold: options.breakerThreshold ?? 2,
    breakerCooldownMs: 60_000,
    backoffBaseMs: 1,
    readyTimeoutMs: 100,
    attemptMs: 10_000,
    maxInFlight: 0,
    log: (line) => logs.push(line),
    fetch: async (input) => {
      const url = new URL(String(input)).origin;
      calls.set(url, (calls.get(url) ?? 0) + 1);
      return answer(url);
    },
  });
  return { pool, calls, logs };
}

describe('WorkerPool and model versions', () => {
  const [first, second] = rendezvousOrder(['http://w0', 'http://w1'], key) as [string, string];
  const otherVersion = () => new Response(JSON.stringify({ status: 409 }), { status: 409, headers: { 'content-type': 'application/problem+json' } });

  it('tries the next worker when one answers 409 (another model version)', async () => {
    const { pool, calls } = scriptedPool([first, second], (url) => (url === first ? otherVersion() : image(key)));
    expect(await pool.generate(key, body)).toMatchObject({ ok: true, worker: second, attempts: 2 });
    expect(calls.get(first)).toBe(1);
  });

  it('keeps the circuit of a worker that answers 409 closed, however often', async () => {
    const { pool, calls } = scriptedPool([first, second], (url) => (url === first ? otherVersion() : image(key)), { breakerThreshold: 2 });
    for (let i = 0; i < 10; i++) expect(await pool.generate(key, body)).toMatchObject({ ok: true, worker: second });
    expect(calls.get(first)).toBe(10);
  });

  it('answers 503 naming the model and version, with a Retry-After of a deploy, when no worker serves it', async () => {
    const { pool, calls } = scriptedPool([first, second], () => otherVersion(), { breakerThreshold: 1 });
    const outcome = await pool.generate(key, body);
    expect(outcome).toMatchObject({ ok: false, status: 503, retryAfterSeconds: VERSION_SKEW_RETRY_AFTER_SECONDS, attempts: 2 });
    expect(outcome.ok || outcome.detail).toMatch(/no GPU worker serves model m version v/);
    // No circuit opened: the next request asks both again.
    await pool.generate(key, body);
    expect([calls.get(first), calls.get(second)]).toEqual([2, 2]);
  });

  it('answers busy over another version when workers are both', async () => {
    const { pool } = scriptedPool([first, second], (url) => (url === first ? otherVersion() : new Response(null, { status: 503, headers: { 'retry-after': '3' } })));
    expect(await pool.generate(key, body)).toMatchObject({ ok: false, status: 503, retryAfterSeconds: 3, detail: 'no GPU worker could take the request' });
  });
});

describe('WorkerPool and the answered image key', () => {
  const [first, second] = rendezvousOrder(['http://w0', 'http://w1'], key) as [string, string];
  const otherKey = 'b'.repeat(64);

  it('does not serve an image under another key: it logs it and tries the next worker', async () => {
    const { pool, logs } = scriptedPool([first, second], (url) => image(url === first ? otherKey : key));
    expect(await pool.generate(key, body)).toMatchObject({ ok: true, worker: second, attempts: 2 });
    expect(logs).toContainEqual(expect.objectContaining({ event: 'worker-key-mismatch', worker: first, key: key.slice(0, 12), answered: otherKey.slice(0, 12) }));
  });

  it('does not serve an image without its key', async () => {
    const { pool } = scriptedPool([first], () => new Response(new Uint8Array([1]), { headers: { 'content-type': 'image/png' } }));
    expect(await pool.generate(key, body)).toMatchObject({ ok: false, status: 502 });
  });

  it('answers 502 when every worker answers another key, and counts it as a failure of each', async () => {
    const { pool, calls } = scriptedPool([first, second], () => image(otherKey), { breakerThreshold: 1 });
    expect(await pool.generate(key, body)).toMatchObject({ ok: false, status: 502, detail: 'a GPU worker answered with an image other than the one asked for', attempts: 2 });
    // Both circuits opened: the next request calls neither.
    expect(await pool.generate(key, body)).toMatchObject({ ok: false, status: 503, attempts: 0 });
    expect([calls.get(first), calls.get(second)]).toEqual([1, 1]);
  });
});

describe('WorkerPool and a hung worker', () => {
  const [first, second] = rendezvousOrder(['http://w0', 'http://w1'], key) as [string, string];

  /** `hung` never answers (until aborted); every other worker answers after `ms`. */
  function hungPool(hung: string, options: { attemptMs: number; deadlineMs?: number; ms?: number; breakerThreshold?: number }) {
    const calls = new Map<string, number>();
    const logs: Record<string, unknown>[] = [];
    const pool = new WorkerPool({
      workerUrls: [first, second],
      secret: 's',
      deadlineMs: options.deadlineMs ?? 2000,
      attemptMs: options.attemptMs,
      breakerThreshold: options.breakerThreshold ?? 2,
      breakerCooldownMs: 60_000,
      backoffBaseMs: 1,
      readyTimeoutMs: 100,
      maxInFlight: 0,
      log: (line) => logs.push(line),
      fetch: (input, init) => {
        const url = new URL(String(input)).origin;
        calls.set(url, (calls.get(url) ?? 0) + 1);
        return new Promise((resolve, reject) => {
          const timer = url === hung ? undefined : setTimeout(() => resolve(image(key)), options.ms ?? 1);
          init?.signal?.addEventListener('abort', () => {
            if (timer !== undefined) clearTimeout(timer);
            reject(new Error('aborted'));
          });
        });
      },
    });
    return { pool, calls, logs };
  }

  it('asks the next worker once an attempt outlives its deadline, well before the whole deadline', async () => {
    const { pool, logs } = hungPool(first, { attemptMs: 50 });
    const started = Date.now();
    expect(await pool.generate(key, body)).toMatchObject({ ok: true, worker: second, attempts: 2 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(logs).toContainEqual(expect.objectContaining({ event: 'worker-attempt-late', worker: first }));
  });

  it('serves the slow first attempt when it answers before the hedge', async () => {
    // Both workers take 80 ms; the first's attempt deadline is 50 ms: the hedge starts at 50 ms, the
    // first attempt answers at 80 ms, before the hedge does (at 130 ms).
    const { pool, calls } = hungPool('http://none', { attemptMs: 50, ms: 80 });
    expect(await pool.generate(key, body)).toMatchObject({ ok: true, worker: first, attempts: 2 });
    expect([calls.get(first), calls.get(second)]).toEqual([1, 1]);
  });

  it('ejects a worker that keeps timing out, like a dead one', async () => {
    const { pool, calls } = hungPool(first, { attemptMs: 30, breakerThreshold: 2 });
    for (let i = 0; i < 5; i++) expect(await pool.generate(key, body)).toMatchObject({ ok: true, worker: second });
    // Two late attempts opened its circuit: the other three went straight to the second worker.
    expect(calls.get(first)).toBe(2);
  });

  it('answers 504 at the whole deadline when every worker hangs', async () => {
    const { pool } = hungPool(first, { attemptMs: 20, deadlineMs: 200, ms: 10_000 });
    const started = Date.now();
    expect(await pool.generate(key, body)).toMatchObject({ ok: false, status: 504, attempts: 2 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('lengthens the attempt deadline by the time per image of each call in flight to the worker', () => {
    const { pool } = hungPool(first, { attemptMs: 100 });
    expect(pool.attemptDeadlineMs(first, 20)).toBe(100);
    void pool.generate(key, body);
    expect(pool.attemptDeadlineMs(first, 20, 5)).toBe(125);
  });
});

describe('WorkerPool and storage', () => {
  const [first, second] = rendezvousOrder(['http://w0', 'http://w1'], key) as [string, string];
  const storageDown = () =>
    new Response(JSON.stringify({ type: WORKER_STORAGE_PROBLEM_TYPE, title: 'Object storage unavailable', status: 503, detail: 'storage PUT failed' }), {
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '2' },
    });

  it('names storage, not the workers, when every worker answers that storage failed it', async () => {
    const { pool } = scriptedPool([first, second], () => storageDown());
    expect(await pool.generate(key, body)).toMatchObject({ ok: false, status: 503, dependency: 'storage', retryAfterSeconds: 2, detail: expect.stringMatching(/object storage is unavailable/) });
  });

  it('keeps naming the workers when one of them is merely busy', async () => {
    const { pool } = scriptedPool([first, second], (url) => (url === first ? storageDown() : new Response(null, { status: 503, headers: { 'retry-after': '1' } })));
    const outcome = await pool.generate(key, body);
    expect(outcome).toMatchObject({ ok: false, status: 503, detail: 'no GPU worker could take the request' });
    expect(outcome.ok || outcome.dependency).toBeUndefined();
  });
});

describe('WorkerPool calls', () => {
  it("send the image key (a gateway hashes on it) and the private path's headers", async () => {
    const seen: Headers[] = [];
    const pool = new WorkerPool({
      workerUrls: ['http://gateway'],
      secret: 's',
      deadlineMs: 1000,
      attemptMs: 1000,
      breakerThreshold: 2,
      breakerCooldownMs: 1000,
      backoffBaseMs: 1,
      readyTimeoutMs: 100,
      maxInFlight: 0,
      headers: { 'cf-access-client-id': 'id', 'cf-access-client-secret': 'secret' },
      fetch: async (_input, init) => {
        seen.push(new Headers(init?.headers));
        return image(key);
      },
    });
    expect(await pool.generate(key, body)).toMatchObject({ ok: true });
    await pool.probe();
    expect([seen[0]!.get(IMAGE_KEY_HEADER), seen[0]!.get('cf-access-client-id'), seen[0]!.get('x-imf-worker-secret')]).toEqual([key, 'id', 's']);
    expect(seen[1]!.get('cf-access-client-secret')).toBe('secret');
  });
});
