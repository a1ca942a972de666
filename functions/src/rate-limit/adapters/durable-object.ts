// Token buckets in a Durable Object (Workers): one object per identity, so every edge location
// sees the same bucket. The object keeps the bucket in memory and in its storage across evictions.
import { DurableObject } from 'cloudflare:workers';
import { takeTokens, type BucketState } from '../token-bucket.js';
import type { BucketPolicy, RateDecision, RateLimiter } from '../types.js';

export class RateLimiterObject extends DurableObject {
  private bucket: BucketState | undefined;

  async take(policy: BucketPolicy, cost: number): Promise<RateDecision> {
    this.bucket ??= await this.ctx.storage.get<BucketState>('bucket');
    const { state, decision } = takeTokens(this.bucket, policy, cost, Date.now());
    this.bucket = state;
    // Not awaited: the output gate holds the response until the write is durable.
    void this.ctx.storage.put('bucket', state);
    return decision;
  }
}

export function durableObjectRateLimiter(namespace: DurableObjectNamespace<RateLimiterObject>): RateLimiter {
  return {
    async take(identity, policy, cost = 1) {
      const stub = namespace.get(namespace.idFromName(identity));
      return stub.take(policy, cost);
    },
  };
}
