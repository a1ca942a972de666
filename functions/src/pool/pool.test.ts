// Rendezvous order, the circuit breaker and the pool's deadline, in isolation.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import { rendezvousOrder } from './rendezvous.js';
import { WorkerPool } from './index.js';

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

describe('WorkerPool deadline', () => {
  const item = { request: { model: 'm', class: 0, guidance: 1, tmin: 0, tmax: 1, seed: 0, format: 'png' as const, size: 28 }, modelVersion: 'v', key: 'a'.repeat(64), objectKey: 'k' };
  // A worker that answers after 150 ms, unless the call is aborted first.
  const slowFetch: typeof fetch = (_input, init) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(new Response(new Uint8Array([1]), { headers: { 'content-type': 'image/png' } })), 150);
      init?.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
  const pool = () => new WorkerPool({ workerUrls: ['http://w1'], secret: 's', deadlineMs: 50, breakerThreshold: 3, breakerCooldownMs: 1000, backoffBaseMs: 1, readyTimeoutMs: 100, maxInFlight: 0, fetch: slowFetch });

  it('gives up at the deadline', async () => {
    expect(await pool().generate(item)).toMatchObject({ ok: false, status: 504, detail: 'no GPU worker answered within 50 ms' });
  });

  it("waits the model's allowance beyond the deadline", async () => {
    expect(await pool().generate(item, 500)).toMatchObject({ ok: true });
  });
});
