// The token bucket refills at its sustained rate and never beyond its burst.
import { describe, expect, it } from 'vitest';
import { takeTokens } from './token-bucket.js';

const policy = { perMinute: 60, burst: 2 };

describe('token bucket', () => {
  it('refills one token per second at 60 per minute', () => {
    let { state } = takeTokens(undefined, policy, 2, 0);
    expect(takeTokens(state, policy, 1, 500).decision).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    ({ state } = takeTokens(state, policy, 1, 1000));
    expect(state.tokens).toBeCloseTo(0);
  });

  it('caps at the burst after a long idle time', () => {
    const { state } = takeTokens({ tokens: 0, updatedAt: 0 }, policy, 0, 3_600_000);
    expect(state.tokens).toBe(2);
  });

  it('reports the seconds until the bucket is full', () => {
    expect(takeTokens(undefined, policy, 2, 0).decision.resetSeconds).toBe(2);
  });
});
