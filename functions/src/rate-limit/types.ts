// Per-identity rate limiting as a token bucket; adapters keep the buckets (in-process on Node, a
// Durable Object per identity on Workers) and all of them pass adapters/contract.ts. The same
// adapter keeps what each identity spent (usage.ts), so /v1/usage reads the counters that limit.
import type { UsageLine, UsageReport } from './usage.js';

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
  /** Takes `cost` tokens from the identity's bucket if it has them, booking them to `line` (default: no image). */
  take(identity: string, policy: BucketPolicy, cost?: number, line?: UsageLine): Promise<RateDecision>;
  /** Gives `tokens` taken earlier for `line` back (work that was paid for and not done), never beyond the burst. */
  refund(identity: string, policy: BucketPolicy, tokens: number, line: UsageLine): Promise<void>;
  /** What the identity spent in the current minute and the last 24 hours. */
  usage(identity: string): Promise<UsageReport>;
}
