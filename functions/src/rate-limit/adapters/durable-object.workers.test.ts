// The Durable Object token buckets pass the rate-limiter contract inside workerd.
import { env } from 'cloudflare:test';
import { rateLimiterContract } from './contract.js';
import { durableObjectRateLimiter, type RateLimiterObject } from './durable-object.js';

const bindings = env as unknown as { RATE_LIMITER: DurableObjectNamespace<RateLimiterObject> };

rateLimiterContract('Durable Object (workerd)', () => durableObjectRateLimiter(bindings.RATE_LIMITER));
