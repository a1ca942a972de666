// Signed image URLs: HMAC-SHA256 over the canonical path and query plus the signer, the expiry and
// the key id, so a URL can go into <img src> or through a CDN without an API key. The signer (an API
// key's id or a playground page token's id) travels in the URL so that whatever the URL costs is
// charged to whoever signed it. Several keys may verify at once (rotation): sign with the newest,
// keep older ones until their URLs have expired. Each URL has exactly one accepted spelling.
import { hmacSha256, hmacSha256Matches } from './digest.js';

/** A signing key: its id (travels in the URL as `kid`) and its secret (never does). */
export interface SigningKey {
  kid: string;
  secret: string;
}

/** Ring of active keys; the first one signs, all of them verify. */
export type SigningKeyRing = readonly SigningKey[];

export type VerifyResult =
  | { ok: true; path: string; expires: number; kid: string; signer: string }
  | { ok: false; reason: 'unsigned' | 'malformed' | 'unknown-kid' | 'tampered' | 'expired' };

/** Query parameters that belong to the signature, always last and in this order. */
export const SIGNATURE_PARAMS = ['by', 'exp', 'kid', 'sig'] as const;
export type SignatureParam = (typeof SIGNATURE_PARAMS)[number];
/**
 * Who signed (whose budget a generation through the URL is charged to), the expiry (Unix seconds),
 * the signing key's id, and the HMAC itself (the one secret-bearing value).
 */
export const [SIGNER_PARAM, EXPIRES_PARAM, KEY_ID_PARAM, MAC_PARAM] = SIGNATURE_PARAMS;

/**
 * The expiry of a URL signed at `nowSeconds` to live at least `ttlSeconds`: rounded up to the next
 * multiple of `windowSeconds`, so every signing of one image within a window writes the same `exp`,
 * hence the same URL, and a CDN in front of the edge keeps one entry for it instead of one per
 * signing. A URL lives between `ttlSeconds` and `ttlSeconds + windowSeconds`; a window of 0 or 1
 * leaves the expiry exact.
 */
export function windowedExpiry(nowSeconds: number, ttlSeconds: number, windowSeconds: number): number {
  const exact = Math.floor(nowSeconds) + Math.max(0, Math.floor(ttlSeconds));
  const window = Math.floor(windowSeconds);
  return window > 1 ? Math.ceil(exact / window) * window : exact;
}

/** What a signer id may be: URL-safe, short (e.g. `k.<16 hex>` for an API key). */
const SIGNER = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Parses `kid1:secret1,kid2:secret2` (first = signing key). Secrets should be ≥ 32 random bytes.
 * Throws on a malformed ring: it is configuration, wrong at start-up rather than per request.
 */
export function parseSigningKeys(text: string): SigningKeyRing {
  const ring = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.indexOf(':');
      if (colon <= 0 || colon === entry.length - 1) throw new Error('signing keys must look like "kid:secret,kid2:secret2"');
      const kid = entry.slice(0, colon);
      if (!/^[A-Za-z0-9_-]+$/.test(kid)) throw new Error(`signing key id "${kid}" must be URL-safe`);
      return { kid, secret: entry.slice(colon + 1) };
    });
  return ring;
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The signed message: the path and query with `by`, `exp` and `kid` appended, exactly as in the URL. */
function signedPart(path: string, signer: string, expires: number, kid: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${SIGNER_PARAM}=${signer}&${EXPIRES_PARAM}=${expires}&${KEY_ID_PARAM}=${kid}`;
}

// A signed target: the signed path, then by, exp, kid and sig as the last parameters, in that order.
// One spelling only: `exp` without leading zeros, and `sig` as the 43 characters an HMAC-SHA256
// encodes to (checked against its re-encoding, so the last character's spare bits must be zero).
const SIGNED_TARGET = new RegExp(
  `^(.*?)[?&]${SIGNER_PARAM}=([A-Za-z0-9_.-]{1,64})&${EXPIRES_PARAM}=(0|[1-9]\\d{0,11})&${KEY_ID_PARAM}=([A-Za-z0-9_-]+)&${MAC_PARAM}=([A-Za-z0-9_-]{43})$`,
);
const NAMES_A_SIGNATURE_PARAM = new RegExp(`[?&](?:${SIGNATURE_PARAMS.join('|')})=`);

/**
 * Signs a canonical path and query (e.g. canonicalPath(req)) with the ring's first key, for `signer`.
 * `expires` is in Unix seconds. Returns the path with `&by=…&exp=…&kid=…&sig=…` appended.
 */
export async function signPath(path: string, ring: SigningKeyRing, expires: number, signer: string): Promise<string> {
  const key = ring[0];
  if (!key) throw new Error('no signing key configured');
  if (!SIGNER.test(signer)) throw new Error(`signer "${signer}" must be 1-64 URL-safe characters`);
  const message = signedPart(path, signer, Math.max(0, Math.floor(expires)), key.kid);
  const mac = await hmacSha256(key.secret, encoder.encode(message));
  return `${message}&${MAC_PARAM}=${base64url(mac)}`;
}

/**
 * Verifies a received path and query (URL.pathname + URL.search, as sent). The signature must be
 * the last parameters; the MAC is compared in constant time.
 * On success `path` is the signed path without the signature parameters.
 */
export async function verifyPath(pathAndQuery: string, ring: SigningKeyRing, nowSeconds: number): Promise<VerifyResult> {
  const match = SIGNED_TARGET.exec(pathAndQuery);
  if (!match) return NAMES_A_SIGNATURE_PARAM.test(pathAndQuery) ? { ok: false, reason: 'malformed' } : { ok: false, reason: 'unsigned' };
  const [, path, signer, expText, kid, sigText] = match as unknown as [string, string, string, string, string, string];
  const key = ring.find((k) => k.kid === kid);
  if (!key) return { ok: false, reason: 'unknown-kid' };
  const signature = fromBase64url(sigText);
  // Four strings decode to the same 32 bytes; only the one signPath writes is accepted.
  if (!signature || base64url(signature) !== sigText) return { ok: false, reason: 'tampered' };
  const expires = Number(expText);
  const valid = await hmacSha256Matches(key.secret, encoder.encode(signedPart(path, signer, expires, kid)), signature);
  if (!valid) return { ok: false, reason: 'tampered' };
  if (expires <= nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, path, expires, kid, signer };
}
