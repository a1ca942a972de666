// What the global setup hands to the tests (vitest's provide/inject), and the edge configuration
// the behaviour suite runs with.
export interface EdgeTestEnv {
  s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string; region: string };
  workerSecret: string;
  upstreams: { ok: string; busy: string; broken: string; slow: string; otherVersion: string; wrongKey: string; half: string; refused: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    edge: EdgeTestEnv;
  }
}

/** API keys of the suite; the edge only ever sees their SHA-256 hashes. */
export const API_KEY = 'imf_test_key_0123456789abcdef';
export const RATE_LIMITED_KEY = 'imf_test_key_ratelimited_0123';
/** A key of its own for the redirect pricing test, so its bucket starts full in either runtime. */
export const REDIRECTED_KEY = 'imf_test_key_redirected_01234';
export const SIGNING_KEYS = 'k2:second-signing-secret-0123456789abcdef,k1:first-signing-secret-0123456789abcdef';
export const RETIRED_SIGNING_KEY = 'k0:retired-signing-secret-0123456789abcdef';
