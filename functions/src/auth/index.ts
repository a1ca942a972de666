// Who may call: a bearer API key (looked up by its SHA-256 hash) or, for image URLs only, a valid
// signature. The answer is either the caller's rate-limit identity or the problem to send back.
import { verifyPath, type SigningKeyRing } from '@imf/contract';
import { problem, problemResponse } from '../problem/index.js';
import { hashApiKey, type ApiKeyRecord, type ApiKeyStore } from './key-store.js';

export * from './key-store.js';

export type AuthResult = { ok: true; key: ApiKeyRecord } | { ok: false; response: Response };

const CHALLENGE = { 'www-authenticate': 'Bearer realm="imf", charset="UTF-8"' };

export async function authenticateBearer(authorization: string | undefined, keys: ApiKeyStore, hash: (key: string) => Promise<string> = hashApiKey): Promise<AuthResult> {
  const match = /^Bearer\s+([\x21-\x7e]{8,512})$/i.exec(authorization ?? '');
  if (!match) {
    const detail = authorization ? 'the Authorization header must be "Bearer <api key>"' : 'send your API key as "Authorization: Bearer <api key>", or use a signed URL';
    return { ok: false, response: problemResponse(problem('unauthorized', detail), CHALLENGE) };
  }
  const record = await keys.lookup(await hash(match[1]!));
  if (!record) return { ok: false, response: problemResponse(problem('unauthorized', 'the API key is not valid'), CHALLENGE) };
  return { ok: true, key: record };
}

const REASONS = {
  unsigned: 'the URL carries no signature',
  malformed: 'the signature parameters must be exp, kid and sig, last and in that order',
  'unknown-kid': 'the URL was signed with a key that is no longer accepted',
  tampered: 'the signature does not match the URL',
  expired: 'the signed URL has expired',
} as const;

/** Verifies a signed path; on failure a 403 problem naming the reason. */
export async function authenticateSignature(
  pathAndQuery: string,
  ring: SigningKeyRing,
  nowSeconds: number,
): Promise<{ ok: true; path: string; expires: number } | { ok: false; response: Response }> {
  const result = await verifyPath(pathAndQuery, ring, nowSeconds);
  if (result.ok) return { ok: true, path: result.path, expires: result.expires };
  return {
    ok: false,
    response: problemResponse(
      problem('bad-signature', REASONS[result.reason], { errors: [{ parameter: result.reason === 'expired' ? 'exp' : result.reason === 'unknown-kid' ? 'kid' : 'sig', rule: 'format', detail: REASONS[result.reason] }] }),
    ),
  };
}
