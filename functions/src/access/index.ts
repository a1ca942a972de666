// Who may call and what it costs, as the routes ask it: a bearer key gives the caller's identity;
// an identity pays tokens from its bucket; a signed URL is verified once and then only its expiry
// is checked. Each answer is either what the route goes on with or the response to send back.
// API keys and client addresses keep their buckets in separate limiters, so that a flood of one
// (many addresses, say) can never push the other's buckets out of a bounded table.
import type { Context } from 'hono';
import { authenticateBearer, authenticateSignature, hashApiKey, memoizedHasher, type ApiKeyStore, type AuthResult } from '../auth/index.js';
import { Memo } from '../memo/index.js';
import { rateLimitedResponse, rateLimitHeaders, type BucketPolicy, type RateLimiter } from '../rate-limit/index.js';
import { NO_IMAGE, type UsageLine, type UsageReport } from '../rate-limit/usage.js';
import { generationTokens, type ImageRequest, type SigningKeyRing } from '@imf/contract';

export type Refusal = { ok: false; response: Response };
/** `headers`: the RateLimit headers for the response. */
export type Charged = { ok: true; headers: Record<string, string> } | Refusal;
/** `signer`: who signed the URL (the `by` parameter), whose budget a generation through it pays. */
export type Verified = { ok: true; path: string; signer: string } | Refusal;

/** An API key's id: the start of its SHA-256, enough to tell keys apart, never enough to find one. */
export function keyId(hash: string): string {
  return hash.slice(0, 16);
}

/** The rate-limit identity of an API key (its bucket), the same for requests and for its signed URLs. */
export function keyIdentity(id: string): string {
  return `key:${id}`;
}

/** The signer written into URLs a key signs (`by=k.<key id>`). */
export function keySigner(hash: string): string {
  return `${KEY_SIGNER}${keyId(hash)}`;
}

/** Signer prefixes: an API key (`k.<key id>`) or a playground page token (`p.<token id>`). */
export const KEY_SIGNER = 'k.';
export const PLAYGROUND_SIGNER = 'p.';

/**
 * What one generated image costs from a bucket of `policy`: the contract's price by format and
 * pixels, at most the bucket's burst, so that any image can be bought by a full bucket.
 */
export function generationPrice(request: Pick<ImageRequest, 'format' | 'size'>, policy: BucketPolicy): number {
  return Math.min(generationTokens(request.format, request.size), Math.max(1, Math.floor(policy.burst)));
}

/** The usage line of `images` images of `request`, `generations` of them generated. */
export function imageLine(request: Pick<ImageRequest, 'model' | 'format' | 'size'>, images: number, generations: number): UsageLine {
  return { model: request.model, size: request.size, format: request.format, images, generations };
}

export interface AccessOptions {
  keys: ApiKeyStore;
  limiter: RateLimiter;
  /** Buckets per client address and per playground token; never the same table as the keys'. */
  clientLimiter: RateLimiter;
  signingKeys: SigningKeyRing;
  nowSeconds: () => number;
}

export interface Access {
  /** The caller's key from `Authorization: Bearer` (its hash is the rate-limit identity), or a 401. */
  identify(c: Context): Promise<AuthResult>;
  /** Takes `cost` tokens from an API key's bucket (keyIdentity), booked to `line`: the RateLimit headers, or a 429. */
  charge(identity: string, policy: BucketPolicy, cost?: number, line?: UsageLine): Promise<Charged>;
  /** Gives back tokens charged to `line` for work that was not done (a generation that failed). */
  refund(identity: string, policy: BucketPolicy, tokens: number, line: UsageLine): Promise<void>;
  /** What an API key's identity spent, from the limiter's own book. */
  usage(identity: string): Promise<UsageReport>;
  /** The same as charge for a bucket of the client limiter (an address, a playground token). */
  chargeClient(identity: string, policy: BucketPolicy, cost?: number, line?: UsageLine): Promise<Charged>;
  /** The same as refund for a bucket of the client limiter. */
  refundClient(identity: string, policy: BucketPolicy, tokens: number, line: UsageLine): Promise<void>;
  /** Whether an API key with this id (keyId) is still valid: a revoked key's signed URLs generate nothing. */
  keyIdValid(id: string): Promise<boolean>;
  /** identify, then charge: a route whose price is known before it reads the request. */
  admit(c: Context, policy: BucketPolicy, cost?: number): Promise<Charged>;
  /** A signed URL verified before and not yet expired; no work beyond a lookup. */
  knownSignedPath(target: string): { path: string; signer: string } | undefined;
  /** Verifies a signed URL (and remembers it until it expires): its unsigned path and signer, or a 403. */
  verifySignature(target: string): Promise<Verified>;
}

export function createAccess(options: AccessOptions): Access {
  const { keys, limiter, clientLimiter, signingKeys, nowSeconds } = options;
  const hashKey = memoizedHasher(hashApiKey);
  // Recently verified signed URLs: a hot <img src> is verified once, then only its expiry is checked.
  const verified = new Memo<{ path: string; signer: string; expires: number }>(10_000);

  function identify(c: Context): Promise<AuthResult> {
    return authenticateBearer(c.req.header('authorization'), keys, hashKey);
  }

  async function take(from: RateLimiter, identity: string, policy: BucketPolicy, cost: number, line: UsageLine): Promise<Charged> {
    const decision = await from.take(identity, policy, cost, line);
    if (!decision.allowed) return { ok: false, response: rateLimitedResponse(decision, policy, cost) };
    return { ok: true, headers: rateLimitHeaders(decision, policy) };
  }
  const charge = (identity: string, policy: BucketPolicy, cost = 1, line = NO_IMAGE) => take(limiter, identity, policy, cost, line);

  return {
    identify,
    charge,
    refund: (identity, policy, tokens, line) => limiter.refund(identity, policy, tokens, line),
    usage: (identity) => limiter.usage(identity),
    chargeClient: (identity, policy, cost = 1, line = NO_IMAGE) => take(clientLimiter, identity, policy, cost, line),
    refundClient: (identity, policy, tokens, line) => clientLimiter.refund(identity, policy, tokens, line),
    keyIdValid: (id) => keys.hasKeyId(id),
    async admit(c, policy, cost = 1) {
      const caller = await identify(c);
      return caller.ok ? charge(keyIdentity(keyId(caller.key.hash)), policy, cost) : caller;
    },
    knownSignedPath(target) {
      const hit = verified.get(target);
      if (hit === undefined) return undefined;
      if (hit.expires > nowSeconds()) return hit;
      verified.delete(target);
      return undefined;
    },
    async verifySignature(target) {
      const result = await authenticateSignature(target, signingKeys, nowSeconds());
      if (!result.ok) return result;
      verified.set(target, { path: result.path, signer: result.signer, expires: result.expires });
      return { ok: true, path: result.path, signer: result.signer };
    },
  };
}
