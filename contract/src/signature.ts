// Signed image URLs: HMAC-SHA256 over the canonical path and query plus the expiry and key id, so a
// URL can go into <img src> or through a CDN without an API key. Several keys may verify at once
// (rotation): sign with the newest, keep older ones until their URLs have expired.

/** A signing key: its id (travels in the URL as `kid`) and its secret (never does). */
export interface SigningKey {
  kid: string;
  secret: string;
}

/** Ring of active keys; the first one signs, all of them verify. */
export type SigningKeyRing = readonly SigningKey[];

export type VerifyResult =
  | { ok: true; path: string; expires: number; kid: string }
  | { ok: false; reason: 'unsigned' | 'malformed' | 'unknown-kid' | 'tampered' | 'expired' };

/** Query parameters that belong to the signature, always last and in this order. */
export const SIGNATURE_PARAMS = ['exp', 'kid', 'sig'] as const;
export type SignatureParam = (typeof SIGNATURE_PARAMS)[number];
/** The expiry (Unix seconds), the signing key's id, and the HMAC itself (the one secret-bearing value). */
export const [EXPIRES_PARAM, KEY_ID_PARAM, MAC_PARAM] = SIGNATURE_PARAMS;

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

// Imported keys are reused: importKey costs more than the HMAC itself, and a ring is small.
const importedKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = importedKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    if (importedKeys.size > 64) importedKeys.clear();
    importedKeys.set(secret, key);
  }
  return key;
}

function base64url(bytes: ArrayBuffer): string {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
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

/** The signed message: the path and query with `exp` and `kid` appended, exactly as in the URL. */
function signedPart(path: string, expires: number, kid: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${EXPIRES_PARAM}=${expires}&${KEY_ID_PARAM}=${kid}`;
}

// A signed target: the signed path, then exp, kid and sig as the last parameters, in that order.
const SIGNED_TARGET = new RegExp(`^(.*?)[?&]${EXPIRES_PARAM}=(\\d{1,12})&${KEY_ID_PARAM}=([A-Za-z0-9_-]+)&${MAC_PARAM}=([A-Za-z0-9_-]+)$`);
const NAMES_A_SIGNATURE_PARAM = new RegExp(`[?&](?:${SIGNATURE_PARAMS.join('|')})=`);

/**
 * Signs a canonical path and query (e.g. canonicalPath(req)) with the ring's first key.
 * `expires` is in Unix seconds. Returns the path with `&exp=…&kid=…&sig=…` appended.
 */
export async function signPath(path: string, ring: SigningKeyRing, expires: number): Promise<string> {
  const key = ring[0];
  if (!key) throw new Error('no signing key configured');
  const message = signedPart(path, Math.floor(expires), key.kid);
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(key.secret), encoder.encode(message));
  return `${message}&${MAC_PARAM}=${base64url(mac)}`;
}

/**
 * Verifies a received path and query (URL.pathname + URL.search, as sent). The signature must be
 * the last parameters; the comparison is WebCrypto's HMAC verify, which is constant-time.
 * On success `path` is the signed path without the signature parameters.
 */
export async function verifyPath(pathAndQuery: string, ring: SigningKeyRing, nowSeconds: number): Promise<VerifyResult> {
  const match = SIGNED_TARGET.exec(pathAndQuery);
  if (!match) return NAMES_A_SIGNATURE_PARAM.test(pathAndQuery) ? { ok: false, reason: 'malformed' } : { ok: false, reason: 'unsigned' };
  const [, path, expText, kid, sigText] = match as unknown as [string, string, string, string, string];
  const key = ring.find((k) => k.kid === kid);
  if (!key) return { ok: false, reason: 'unknown-kid' };
  const signature = fromBase64url(sigText);
  if (!signature) return { ok: false, reason: 'tampered' };
  const expires = Number(expText);
  const valid = await crypto.subtle.verify('HMAC', await hmacKey(key.secret), signature, encoder.encode(signedPart(path, expires, kid)));
  if (!valid) return { ok: false, reason: 'tampered' };
  if (expires <= nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, path, expires, kid };
}
