// The Durable Object token buckets pass the rate-limiter contract inside workerd, and isolates that
// lease from the same object spend no more than its bucket with far fewer round trips.
import { env } from 'cloudflare:test';
import { expect, it } from 'vitest';
import { rateLimiterContract } from './contract.js';
import { durableObjectRateLimiter, type RateLimiterObject } from './durable-object.js';

const bindings = env as unknown as { RATE_LIMITER: DurableObjectNamespace<RateLimiterObject> };

rateLimiterContract('Durable Object (workerd)', () => durableObjectRateLimiter(bindings.RATE_LIMITER));

it('two isolates leasing from one object stay within its bucket, asking it a fraction of the time', async () => {
  let asks = 0;
  const namespace = bindings.RATE_LIMITER;
  const counted = { idFromName: (name: string) => namespace.idFromName(name), get: (id: DurableObjectId) => (asks++, namespace.get(id)) } as unknown as DurableObjectNamespace<RateLimiterObject>;
  const isolates = [durableObjectRateLimiter(counted), durableObjectRateLimiter(counted)];
  const identity = `lease-${crypto.randomUUID()}`;
  const policy = { perMinute: 0.001, burst: 400 };
  let allowed = 0;
  for (let i = 0; i < 500; i++) if ((await isolates[i % 2]!.take(identity, policy)).allowed) allowed++;
  expect(allowed).toBeLessThanOrEqual(400);
  expect(allowed).toBeGreaterThan(380);
  expect(asks).toBeLessThan(500 / 4);
});

it('keeps one usage book per identity in its object: generations reach it at once, one-token answers with the next ask', async () => {
  const [a, b] = [durableObjectRateLimiter(bindings.RATE_LIMITER), durableObjectRateLimiter(bindings.RATE_LIMITER)];
  const identity = `book-${crypto.randomUUID()}`;
  const policy = { perMinute: 60, burst: 100 };
  const generated = { model: 'm', size: 1024, format: 'webp', images: 1, generations: 1 };
  const cached = { ...generated, generations: 0 };
  await a.take(identity, policy, 7, generated);
  await b.take(identity, policy, 3, { ...generated, size: 28, format: 'png' });
  await b.take(identity, policy, 1, cached);
  expect((await a.usage(identity)).last_24h).toMatchObject({ tokens: 10, generations: 2, images: 2 });
  // b's one-token answer travels with b's next ask, here its own usage read.
  expect((await b.usage(identity)).last_24h).toMatchObject({ tokens: 11, generations: 2, images: 3 });
  await b.refund(identity, policy, 3, { ...generated, size: 28, format: 'png' });
  expect((await a.usage(identity)).last_24h).toMatchObject({ tokens: 8, generations: 1, images: 2 });
});
