// Per-identity rate limiting as a token bucket; adapters keep the buckets (in-process on Node, a
// Durable Object per identity on Workers) and all of them pass adapters/contract.ts.

export interface BucketPolicy {
  /** Sustained rate. */
  perMinute: number;
  /** Bucket capacity: how many requests may come at once. */
  burst: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again (RateLimit-Reset). */
  resetSeconds: number;
  /** Seconds until `cost` tokens are available; 0 when allowed (Retry-After). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Takes `cost` tokens from the identity's bucket if it has them. */
  take(identity: string, policy: BucketPolicy, cost?: number): Promise<RateDecision>;
}
