// Who may call and what it costs, as the routes ask it: a bearer key gives the caller's identity;
// an identity pays tokens from its bucket; a signed URL is verified once and then only its expiry
// is checked. Each answer is either what the route goes on with or the response to send back.
import type { Context } from 'hono';
import { authenticateBearer, authenticateSignature, hashApiKey, memoizedHasher, type ApiKeyStore, type AuthResult } from '../auth/index.js';
import { Memo } from '../memo/index.js';
import { rateLimitedResponse, rateLimitHeaders, type BucketPolicy, type RateLimiter } from '../rate-limit/index.js';
import type { SigningKeyRing } from '@imf/contract';

export type Refusal = { ok: false; response: Response };
/** `headers`: the RateLimit headers for the response. */
export type Charged = { ok: true; headers: Record<string, string> } | Refusal;
export type Verified = { ok: true; path: string } | Refusal;

export interface AccessOptions {
  keys: ApiKeyStore;
  limiter: RateLimiter;
  signingKeys: SigningKeyRing;
  nowSeconds: () => number;
  /** SHA-256 hex of an API key; WebCrypto by default. */
  hashKey?: (key: string) => Promise<string>;
}

export interface Access {
  /** The caller's key from `Authorization: Bearer` (its hash is the rate-limit identity), or a 401. */
  identify(c: Context): Promise<AuthResult>;
  /** Takes `cost` tokens from the identity's bucket: the RateLimit headers, or a 429. */
  charge(identity: string, policy: BucketPolicy, cost?: number): Promise<Charged>;
  /** identify, then charge: a route whose price is known before it reads the request. */
  admit(c: Context, policy: BucketPolicy, cost?: number): Promise<Charged>;
  /** The unsigned path of a signed URL verified before and not yet expired; no work beyond a lookup. */
  knownSignedPath(target: string): string | undefined;
  /** Verifies a signed URL (and remembers it until it expires): its unsigned path, or a 403. */
  verifySignature(target: string): Promise<Verified>;
}

export function createAccess(options: AccessOptions): Access {
  const { keys, limiter, signingKeys, nowSeconds } = options;
  const hashKey = memoizedHasher(options.hashKey ?? hashApiKey);
  // Recently verified signed URLs: a hot <img src> is verified once, then only its expiry is checked.
  const verified = new Memo<{ path: string; expires: number }>(10_000);

  function identify(c: Context): Promise<AuthResult> {
    return authenticateBearer(c.req.header('authorization'), keys, hashKey);
  }

  async function charge(identity: string, policy: BucketPolicy, cost = 1): Promise<Charged> {
    const decision = await limiter.take(identity, policy, cost);
    if (!decision.allowed) return { ok: false, response: rateLimitedResponse(decision, policy) };
    return { ok: true, headers: rateLimitHeaders(decision, policy) };
  }

  return {
    identify,
    charge,
    async admit(c, policy, cost = 1) {
      const caller = await identify(c);
      return caller.ok ? charge(caller.key.hash, policy, cost) : caller;
    },
    knownSignedPath(target) {
      const hit = verified.get(target);
      if (hit === undefined) return undefined;
      if (hit.expires > nowSeconds()) return hit.path;
      verified.delete(target);
      return undefined;
    },
    async verifySignature(target) {
      const result = await authenticateSignature(target, signingKeys, nowSeconds());
      if (!result.ok) return result;
      verified.set(target, { path: result.path, expires: result.expires });
      return { ok: true, path: result.path };
    },
  };
}
