// In-process token buckets (Node): one Map per process; idle full buckets are dropped.
import { takeTokens, type BucketState } from '../token-bucket.js';
import type { RateLimiter } from '../types.js';

export function memoryRateLimiter(now: () => number = Date.now, maxIdentities = 100_000): RateLimiter {
  const buckets = new Map<string, BucketState>();
  return {
    async take(identity, policy, cost = 1) {
      const { state, decision } = takeTokens(buckets.get(identity), policy, cost, now());
      buckets.delete(identity);
      buckets.set(identity, state);
      // Bounded memory: drop the least recently touched bucket, the likeliest to have refilled.
      if (buckets.size > maxIdentities) buckets.delete(buckets.keys().next().value!);
      return decision;
    },
  };
}
