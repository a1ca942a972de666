// The token bucket itself, pure: both adapters store this state and call `takeTokens`.
import type { BucketPolicy, RateDecision } from './types.js';

export interface BucketState {
  tokens: number;
  /** Milliseconds since the epoch when `tokens` was computed. */
  updatedAt: number;
}

export function takeTokens(state: BucketState | undefined, policy: BucketPolicy, cost: number, now: number): { state: BucketState; decision: RateDecision } {
  const ratePerMs = policy.perMinute / 60_000;
  const start = state ?? { tokens: policy.burst, updatedAt: now };
  const tokens = Math.min(policy.burst, start.tokens + Math.max(0, now - start.updatedAt) * ratePerMs);
  const allowed = cost <= tokens;
  const left = allowed ? tokens - cost : tokens;
  const refill = (missing: number) => (ratePerMs > 0 ? Math.ceil(missing / ratePerMs / 1000) : 60);
  return {
    state: { tokens: left, updatedAt: now },
    decision: {
      allowed,
      limit: policy.burst,
      remaining: Math.floor(left),
      resetSeconds: refill(policy.burst - left),
      retryAfterSeconds: allowed ? 0 : Math.max(1, refill(cost - left)),
    },
  };
}
