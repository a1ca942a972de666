// Leased tokens: few round trips to the bucket's owner under load, exact counts for one isolate,
// and never more tokens spent across isolates than the bucket gave out.
import { describe, expect, it } from 'vitest';
import { leaseTokens, type BucketState } from '../token-bucket.js';
import type { BucketPolicy } from '../types.js';
import { LEASE_TTL_MS, leasingRateLimiter, type LeaseSource } from './lease.js';

/** The owner's side in memory (the Durable Object does the same with leaseTokens), counting asks. */
function owner(clock: { now: number }) {
  const buckets = new Map<string, BucketState>();
  const counter = { asks: 0 };
  const source: LeaseSource = async (identity, policy, request) => {
    counter.asks++;
    await Promise.resolve(); // a round trip: callers must not assume it is synchronous
    const { state, decision, granted } = leaseTokens(buckets.get(identity), policy, request, clock.now);
    buckets.set(identity, state);
    return { decision, granted };
  };
  return { source, counter };
}

const noRefill: BucketPolicy = { perMinute: 1e-6, burst: 100 };

describe('leasing rate limiter', () => {
  it('asks the owner a few dozen times for a thousand requests, not a thousand', async () => {
    const clock = { now: 0 };
    const { source, counter } = owner(clock);
    const limiter = leasingRateLimiter(source, () => clock.now);
    for (let i = 0; i < 1000; i++) expect((await limiter.take('k', { perMinute: 1e6, burst: 10_000 })).allowed).toBe(true);
    expect(counter.asks).toBeLessThan(30);
  });

  it('counts exactly in one isolate: remaining falls by one per request, then 429', async () => {
    const clock = { now: 0 };
    const limiter = leasingRateLimiter(owner(clock).source, () => clock.now);
    const remaining: number[] = [];
    for (let i = 0; i < 101; i++) {
      const d = await limiter.take('k', noRefill);
      if (d.allowed) remaining.push(d.remaining);
      else expect(i).toBe(100);
    }
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
  });

  it('never spends more than the bucket across isolates; expired leases give their tokens back', async () => {
    const clock = { now: 0 };
    const { source } = owner(clock);
    const isolates = [leasingRateLimiter(source, () => clock.now), leasingRateLimiter(source, () => clock.now), leasingRateLimiter(source, () => clock.now)];
    let allowed = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 200; i++) if ((await isolates[i % 3]!.take('k', noRefill)).allowed) allowed++;
      expect(allowed).toBeLessThanOrEqual(100);
      clock.now += LEASE_TTL_MS; // leases go stale; the next ask returns what they held
    }
    expect(allowed).toBe(100);
  });

  it('lets concurrent requests wait for one renewal instead of each asking', async () => {
    const clock = { now: 0 };
    const { source, counter } = owner(clock);
    const limiter = leasingRateLimiter(source, () => clock.now);
    const decisions = await Promise.all(Array.from({ length: 64 }, () => limiter.take('k', { perMinute: 1e6, burst: 10_000 })));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(counter.asks).toBeLessThanOrEqual(8);
  });

  it('passes a failed ask on and asks again next time', async () => {
    let fail = true;
    const clock = { now: 0 };
    const { source } = owner(clock);
    const limiter = leasingRateLimiter(async (...args) => {
      if (fail) throw new Error('object unreachable');
      return source(...args);
    }, () => clock.now);
    await expect(limiter.take('k', noRefill)).rejects.toThrow('object unreachable');
    fail = false;
    expect((await limiter.take('k', noRefill)).allowed).toBe(true);
  });
});
