// Access: a bearer key identifies its caller, a bucket charges it, and a verified signed URL is
// remembered only until it expires.
import { parseSigningKeys, signPath } from '@imf/contract';
import { Hono, type Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { envKeyStore, hashApiKey } from '../auth/index.js';
import { memoryRateLimiter } from '../rate-limit/adapters/memory.js';
import { createAccess } from './index.js';

const ring = parseSigningKeys('k1:access-test-secret-0123456789abcdef');
const KEY = 'imf_access_test_key_0123';

async function setup() {
  const clock = { seconds: 1_800_000_000 };
  const access = createAccess({ keys: envKeyStore([await hashApiKey(KEY)]), limiter: memoryRateLimiter(), clientLimiter: memoryRateLimiter(), signingKeys: ring, nowSeconds: () => clock.seconds });
  return { access, clock };
}

/** Runs `check` with the Hono context of a request carrying these headers. */
async function withRequest<T>(headers: Record<string, string>, check: (c: Context) => Promise<T>): Promise<T> {
  let out: T | undefined;
  const app = new Hono().get('/', async (c) => ((out = await check(c)), c.body(null)));
  await app.request('/', { headers });
  return out!;
}

describe('access', () => {
  it('identifies a caller by the hash of its key, and refuses another key with a 401', async () => {
    const { access } = await setup();
    const known = await withRequest({ authorization: `Bearer ${KEY}` }, (c) => access.identify(c));
    expect(known.ok && known.key.hash).toBe(await hashApiKey(KEY));
    const unknown = await withRequest({ authorization: 'Bearer imf_not_a_key_000000' }, (c) => access.identify(c));
    expect(!unknown.ok && unknown.response.status).toBe(401);
  });

  it('charges tokens and answers 429 once the bucket is empty', async () => {
    const { access } = await setup();
    const policy = { perMinute: 1, burst: 3 };
    const first = await access.charge('someone', policy, 2);
    expect(first.ok && first.headers['ratelimit-remaining']).toBe('1');
    const second = await access.charge('someone', policy, 2);
    expect(!second.ok && second.response.status).toBe(429);
  });

  it('keeps key buckets and client buckets in separate tables: a flood of addresses evicts no key', async () => {
    const keys = memoryRateLimiter(Date.now, 4);
    const clients = memoryRateLimiter(Date.now, 4);
    const access = createAccess({ keys: envKeyStore([]), limiter: keys, clientLimiter: clients, signingKeys: ring, nowSeconds: () => 0 });
    const policy = { perMinute: 0.001, burst: 1 };
    expect((await access.charge('key:a', policy)).ok).toBe(true);
    expect((await access.charge('key:a', policy)).ok).toBe(false);
    for (let i = 0; i < 100; i++) await access.chargeClient(`pg-client:10.0.${i >> 8}.${i & 255}`, policy);
    // Had the addresses shared the keys' table (capped at 4), key:a's empty bucket would be gone.
    expect((await access.charge('key:a', policy)).ok).toBe(false);
  });

  it('remembers a verified signed URL until it expires', async () => {
    const { access, clock } = await setup();
    const target = await signPath('/v1/images/m/1.png?seed=1', ring, clock.seconds + 60, 'k.0123456789abcdef');
    expect(access.knownSignedPath(target)).toBeUndefined();
    expect(await access.verifySignature(target)).toEqual({ ok: true, path: '/v1/images/m/1.png?seed=1', signer: 'k.0123456789abcdef' });
    expect(access.knownSignedPath(target)).toMatchObject({ path: '/v1/images/m/1.png?seed=1', signer: 'k.0123456789abcdef' });
    clock.seconds += 60;
    expect(access.knownSignedPath(target)).toBeUndefined();
    const expired = await access.verifySignature(target);
    expect(!expired.ok && expired.response.status).toBe(403);
  });
});
