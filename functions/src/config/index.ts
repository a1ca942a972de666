// Edge configuration, read the same way from Workers vars/secrets and from Node's environment.
// Every knob has a default here so both runtimes document and behave alike (see functions/README.md).
import { parseSigningKeys, type SigningKeyRing } from '@imf/contract';

export interface EdgeConfig {
  /** SHA-256 hex hashes of the accepted API keys (API_KEY_HASHES, comma-separated). */
  apiKeyHashes: string[];
  signingKeys: SigningKeyRing;
  /** Lifetime of URLs minted by POST /v1/sign and returned by POST /v1/images. */
  signedUrlTtlSeconds: number;
  /** Lifetime of the playground's URLs and of its page token. */
  playgroundTtlSeconds: number;
  workerUrls: string[];
  workerSecret: string;
  pool: {
    deadlineMs: number;
    breakerThreshold: number;
    breakerCooldownMs: number;
    backoffBaseMs: number;
    readyTimeoutMs: number;
    maxInFlight: number;
  };
  rateLimit: { perMinute: number; burst: number };
  playgroundRateLimit: { perMinute: number; burst: number };
  cache: { maxEntries: number; maxBytes: number };
  corsOrigins: string[];
  /** Absolute origin for URLs in responses; defaults to the request's own origin. */
  publicOrigin: string | undefined;
  logRequests: boolean;
  maxBodyBytes: number;
}

export type EnvRecord = Record<string, unknown>;

function text(env: EnvRecord, name: string, fallback = ''): string {
  const value = env[name];
  return typeof value === 'string' ? value : fallback;
}

function list(env: EnvRecord, name: string): string[] {
  return text(env, name)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function int(env: EnvRecord, name: string, fallback: number): number {
  const raw = text(env, name).trim();
  if (raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export function readConfig(env: EnvRecord): EdgeConfig {
  const perMinute = int(env, 'RATE_LIMIT_PER_MINUTE', 120);
  const playgroundPerMinute = int(env, 'PLAYGROUND_RATE_LIMIT_PER_MINUTE', 600);
  const signingKeys = parseSigningKeys(text(env, 'SIGNING_KEYS'));
  if (signingKeys.length === 0) throw new Error('SIGNING_KEYS is required: "kid:secret[,oldkid:oldsecret]"');
  return {
    apiKeyHashes: list(env, 'API_KEY_HASHES').map((h) => h.toLowerCase()),
    signingKeys,
    signedUrlTtlSeconds: int(env, 'SIGNED_URL_TTL_SECONDS', 3600),
    playgroundTtlSeconds: int(env, 'PLAYGROUND_TTL_SECONDS', 900),
    workerUrls: list(env, 'WORKER_URLS').map((u) => u.replace(/\/+$/, '')),
    workerSecret: text(env, 'WORKER_SECRET'),
    pool: {
      deadlineMs: int(env, 'POOL_DEADLINE_MS', 15000),
      breakerThreshold: int(env, 'POOL_BREAKER_THRESHOLD', 3),
      breakerCooldownMs: int(env, 'POOL_BREAKER_COOLDOWN_MS', 10000),
      backoffBaseMs: int(env, 'POOL_BACKOFF_BASE_MS', 50),
      readyTimeoutMs: int(env, 'POOL_READY_TIMEOUT_MS', 1000),
      maxInFlight: int(env, 'POOL_MAX_IN_FLIGHT', 64),
    },
    rateLimit: { perMinute, burst: int(env, 'RATE_LIMIT_BURST', Math.max(1, Math.ceil(perMinute / 2))) },
    playgroundRateLimit: { perMinute: playgroundPerMinute, burst: int(env, 'PLAYGROUND_RATE_LIMIT_BURST', 60) },
    cache: { maxEntries: int(env, 'CACHE_MAX_ENTRIES', 2000), maxBytes: int(env, 'CACHE_MAX_BYTES', 64 * 1024 * 1024) },
    corsOrigins: list(env, 'CORS_ORIGINS').length > 0 ? list(env, 'CORS_ORIGINS') : ['*'],
    publicOrigin: text(env, 'PUBLIC_ORIGIN') || undefined,
    logRequests: text(env, 'LOG_REQUESTS', 'true') !== 'false',
    maxBodyBytes: 16 * 1024,
  };
}
