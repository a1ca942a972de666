// The token bucket itself, pure: both adapters store this state and call `takeTokens`.
import type { BucketPolicy, RateDecision } from './types.js';

export interface BucketState {
  tokens: number;
  /** Milliseconds since the epoch when `tokens` was computed. */
  updatedAt: number;
}

/** The tokens in the bucket at `now`: what it held, refilled at the sustained rate, capped at the burst. */
export function refilledTokens(state: BucketState | undefined, policy: BucketPolicy, now: number): number {
  if (!state) return policy.burst;
  return Math.min(policy.burst, state.tokens + Math.max(0, now - state.updatedAt) * (policy.perMinute / 60_000));
}

export function takeTokens(state: BucketState | undefined, policy: BucketPolicy, cost: number, now: number): { state: BucketState; decision: RateDecision } {
  const ratePerMs = policy.perMinute / 60_000;
  const tokens = refilledTokens(state, policy, now);
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

/** The bucket after `tokens` come back: refilled to now, plus them, never beyond the burst. */
export function refundTokens(state: BucketState | undefined, policy: BucketPolicy, tokens: number, now: number): BucketState {
  return { tokens: Math.min(policy.burst, refilledTokens(state, policy, now) + Math.max(0, tokens)), updatedAt: now };
}

/**
 * A lease: `refund` unspent tokens of an earlier lease go back first, then up to `want` tokens (never
 * fewer than `cost`, never more than the bucket holds) leave the bucket at once, to be spent by the
 * caller without asking again. `granted` is 0 when not even `cost` tokens are there.
 */
export function leaseTokens(
  state: BucketState | undefined,
  policy: BucketPolicy,
  request: { cost: number; want: number; refund: number },
  now: number,
): { state: BucketState; decision: RateDecision; granted: number } {
  const available = Math.min(policy.burst, refilledTokens(state, policy, now) + Math.max(0, request.refund));
  const grant = available >= request.cost ? Math.max(request.cost, Math.min(request.want, Math.floor(available))) : request.cost;
  const taken = takeTokens({ tokens: available, updatedAt: now }, policy, grant, now);
  return { ...taken, granted: taken.decision.allowed ? grant : 0 };
}
