// The behaviour every RateLimiter adapter must show; run against each adapter in its runtime.
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../types.js';
import type { UsageLine } from '../usage.js';

const big: UsageLine = { model: 'm', size: 1024, format: 'webp', images: 1, generations: 1 };
const small: UsageLine = { model: 'm', size: 28, format: 'png', images: 1, generations: 1 };

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

    it('books what each charge bought, by model, size and format, in the current minute and the last 24 hours', async () => {
      const limiter = make();
      const id = `usage-${crypto.randomUUID()}`;
      const roomy = { perMinute: 600, burst: 100 };
      await limiter.take(id, roomy, 40, big);
      await limiter.take(id, roomy, 1, small);
      await limiter.take(id, roomy, 1, { ...small, generations: 0 });
      await limiter.take(id, roomy, 1);
      const report = await limiter.usage(id);
      for (const span of [report.window, report.last_24h]) {
        expect(span).toMatchObject({ generations: 2, images: 3, tokens: 43 });
        expect(span.by).toEqual([
          { model: '', size: 0, format: '', generations: 0, images: 0, tokens: 1 },
          { model: 'm', size: 28, format: 'png', generations: 1, images: 2, tokens: 2 },
          { model: 'm', size: 1024, format: 'webp', generations: 1, images: 1, tokens: 40 },
        ]);
      }
      expect(report.window.end - report.window.start).toBe(60);
      expect(report.last_24h.end - report.last_24h.start).toBe(86400);
    });

    it('gives refunded tokens back to the bucket and takes them out of the book', async () => {
      const limiter = make();
      const id = `refund-${crypto.randomUUID()}`;
      const still = { perMinute: 0.001, burst: 10 };
      expect((await limiter.take(id, still, 10, big)).allowed).toBe(true);
      expect((await limiter.take(id, still, 4, big)).allowed).toBe(false);
      await limiter.refund(id, still, 6, big);
      expect((await limiter.take(id, still, 4, small)).allowed).toBe(true);
      expect((await limiter.usage(id)).last_24h).toMatchObject({ generations: 1, images: 1, tokens: 8 });
    });

    it('reports nothing for an identity that spent nothing', async () => {
      expect((await make().usage(`none-${crypto.randomUUID()}`)).last_24h).toMatchObject({ generations: 0, images: 0, tokens: 0, by: [] });
    });
  });
}
