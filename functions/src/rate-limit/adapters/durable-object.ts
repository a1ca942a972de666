// Token buckets in a Durable Object (Workers): one object per identity, so every edge location
// sees the same bucket. The object keeps the bucket in memory and in its storage across evictions.
//
// Asking the object on every request costs a round trip that, measured on workerd, cut a cached
// image's requests/s to a sixth. So each isolate leases tokens in batches (lease.ts) and spends
// them locally; the object still hands out no more tokens than the bucket holds.
import { DurableObject } from 'cloudflare:workers';
import { leaseTokens, type BucketState } from '../token-bucket.js';
import type { BucketPolicy, RateDecision, RateLimiter } from '../types.js';
import { leasingRateLimiter, type LeaseRequest } from './lease.js';

export class RateLimiterObject extends DurableObject {
  private bucket: BucketState | undefined;

  async lease(policy: BucketPolicy, request: LeaseRequest): Promise<{ decision: RateDecision; granted: number }> {
    this.bucket ??= await this.ctx.storage.get<BucketState>('bucket');
    const { state, decision, granted } = leaseTokens(this.bucket, policy, request, Date.now());
    this.bucket = state;
    // Not awaited: the output gate holds the response until the write is durable.
    void this.ctx.storage.put('bucket', state);
    return { decision, granted };
  }
}

/** The limiter of one isolate: leases from the identity's object, spends locally. */
export function durableObjectRateLimiter(namespace: DurableObjectNamespace<RateLimiterObject>, now: () => number = Date.now): RateLimiter {
  return leasingRateLimiter((identity, policy, request) => namespace.get(namespace.idFromName(identity)).lease(policy, request), now);
}
