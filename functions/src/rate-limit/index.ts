// Applies a RateLimiter decision to a response: RateLimit-* headers (IETF draft
// draft-ietf-httpapi-ratelimit-headers) on every limited response, 429 + Retry-After when refused.
import { problem, problemResponse } from '../problem/index.js';
import type { BucketPolicy, RateDecision } from './types.js';

export * from './types.js';
export * from './usage.js';

export function rateLimitHeaders(decision: RateDecision, policy: BucketPolicy): Record<string, string> {
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
    'ratelimit-policy': `${policy.burst};w=${Math.max(1, Math.round((policy.burst / Math.max(policy.perMinute, 1e-9)) * 60))}`,
  };
}

export function rateLimitedResponse(decision: RateDecision, policy: BucketPolicy, cost = 1): Response {
  const price = cost === 1 ? '' : `this costs ${cost} tokens; `;
  return problemResponse(
    problem('rate-limited', `rate limit of ${policy.perMinute} tokens per minute (burst ${policy.burst}) exceeded; ${price}retry in ${decision.retryAfterSeconds} s`),
    Object.assign(rateLimitHeaders(decision, policy), { 'retry-after': String(decision.retryAfterSeconds) }),
  );
}
