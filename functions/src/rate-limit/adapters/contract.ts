// The behaviour every RateLimiter adapter must show; run against each adapter in its runtime.
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../types.js';

export function rateLimiterContract(name: string, make: () => RateLimiter): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const policy = { perMinute: 6, burst: 3 };

    it('allows a burst, then refuses with a retry time', async () => {
      const limiter = make();
      const id = `burst-${crypto.randomUUID()}`;
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limiter.take(id, policy));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
      expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
      expect(decisions[3]!.limit).toBe(3);
      expect(decisions[3]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(decisions[3]!.retryAfterSeconds).toBeLessThanOrEqual(10);
    });

    it('keeps identities apart', async () => {
      const limiter = make();
      const a = `a-${crypto.randomUUID()}`;
      const b = `b-${crypto.randomUUID()}`;
      for (let i = 0; i < 3; i++) await limiter.take(a, policy);
      expect((await limiter.take(a, policy)).allowed).toBe(false);
      expect((await limiter.take(b, policy)).allowed).toBe(true);
    });

    it('charges a cost larger than one', async () => {
      const limiter = make();
      const id = `cost-${crypto.randomUUID()}`;
      expect((await limiter.take(id, policy, 3)).allowed).toBe(true);
      expect((await limiter.take(id, policy, 1)).allowed).toBe(false);
    });
  });
}
