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
