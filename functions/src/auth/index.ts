// Who may call: a bearer API key (looked up by its SHA-256 hash) or, for image URLs only, a valid
// signature. The answer is either the caller's rate-limit identity or the problem to send back.
import { EXPIRES_PARAM, KEY_ID_PARAM, MAC_PARAM, SIGNATURE_PARAMS, verifyPath, type SignatureParam, type SigningKeyRing, type VerifyResult } from '@imf/contract';
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

type FailureReason = Extract<VerifyResult, { ok: false }>['reason'];

const REASONS: Record<FailureReason, { detail: string; parameter: SignatureParam }> = {
  unsigned: { detail: 'the URL carries no signature', parameter: MAC_PARAM },
  malformed: { detail: `the signature parameters must be ${SIGNATURE_PARAMS.join(', ')}, last and in that order`, parameter: MAC_PARAM },
  'unknown-kid': { detail: 'the URL was signed with a key that is not accepted any more', parameter: KEY_ID_PARAM },
  tampered: { detail: 'the signature does not match the URL', parameter: MAC_PARAM },
  expired: { detail: 'the signed URL has expired', parameter: EXPIRES_PARAM },
};

/** Verifies a signed path; on failure a 403 problem naming the reason and the parameter at fault. */
export async function authenticateSignature(
  pathAndQuery: string,
  ring: SigningKeyRing,
  nowSeconds: number,
): Promise<{ ok: true; path: string; expires: number; signer: string } | { ok: false; response: Response }> {
  const result = await verifyPath(pathAndQuery, ring, nowSeconds);
  if (result.ok) return { ok: true, path: result.path, expires: result.expires, signer: result.signer };
  const { detail, parameter } = REASONS[result.reason];
  return { ok: false, response: problemResponse(problem('bad-signature', detail, { errors: [{ parameter, rule: 'format', detail }] })) };
}
