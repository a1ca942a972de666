// Edge configuration, read the same way from Workers vars/secrets and from Node's environment.
// Every knob has a default here so both runtimes document and behave alike (see functions/README.md).
import { parseSigningKeys, type SigningKeyRing } from '@imf/contract';

export interface EdgeConfig {
  /** SHA-256 hex hashes of the accepted API keys (API_KEY_HASHES, comma-separated). */
  apiKeyHashes: string[];
  signingKeys: SigningKeyRing;
  /** Lifetime of URLs minted by POST /v1/sign and returned by POST /v1/images. */
  signedUrlTtlSeconds: number;
  /**
   * Expiries of those URLs are rounded up to a multiple of this (SIGNED_URL_WINDOW_SECONDS), so the
   * same image signed twice within a window is one URL, one CDN entry; 0: exact expiries.
   */
  signedUrlWindowSeconds: number;
  /** Lifetime of the playground's page token. */
  playgroundTtlSeconds: number;
  /** Lifetime of the image URLs the playground signs (never beyond its page token's). */
  playgroundUrlTtlSeconds: number;
  /** PLAYGROUND: `on`, `cached` (signs only images already stored, generates nothing) or `off`. */
  playground: PlaygroundMode;
  workerUrls: string[];
  workerSecret: string;
  /** Headers of the private path to the pool (Cloudflare Access service token), sent with every worker call. */
  workerHeaders: Record<string, string>;
  pool: {
    deadlineMs: number;
    attemptMs: number;
    breakerThreshold: number;
    breakerCooldownMs: number;
    backoffBaseMs: number;
    readyTimeoutMs: number;
    maxInFlight: number;
  };
  rateLimit: { perMinute: number; burst: number };
  /** Per client address: the playground's signer (cheap, but not free). */
  playgroundRateLimit: { perMinute: number; burst: number };
  /** Fresh generations through playground URLs, per page token and, separately, per client address. */
  playgroundGenerations: { perMinute: number; burst: number };
  /** Addresses of proxies whose X-Forwarded-For is believed (Node); empty: the socket's address is the client. */
  trustedProxies: string[];
  /** Hosts (`name` or `name:port`) the edge may build absolute URLs for when PUBLIC_ORIGIN is unset. */
  allowedHosts: string[];
  /** Key of the integrity tag on stored images (shared with the workers); unset: storage is not checked. */
  integrityKey: string | undefined;
  cache: { maxEntries: number; maxBytes: number };
  corsOrigins: string[];
  /** Absolute origin for URLs in responses; unset: the request's origin if its host is allowed, else relative URLs. */
  publicOrigin: string | undefined;
  logRequests: boolean;
  maxBodyBytes: number;
}

export type PlaygroundMode = 'on' | 'cached' | 'off';

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

/** CF-Access-Client-Id/-Secret from WORKER_ACCESS_CLIENT_ID/_SECRET: both or neither. */
function accessHeaders(env: EnvRecord): Record<string, string> {
  const id = text(env, 'WORKER_ACCESS_CLIENT_ID');
  const secret = text(env, 'WORKER_ACCESS_CLIENT_SECRET');
  if ((id === '') !== (secret === '')) throw new Error('WORKER_ACCESS_CLIENT_ID and WORKER_ACCESS_CLIENT_SECRET go together');
  return id === '' ? {} : { 'cf-access-client-id': id, 'cf-access-client-secret': secret };
}

function playgroundMode(value: string): PlaygroundMode {
  const mode = value.trim().toLowerCase();
  if (mode !== 'on' && mode !== 'cached' && mode !== 'off') throw new Error(`PLAYGROUND must be on, cached or off, got "${value}"`);
  return mode;
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
    signedUrlWindowSeconds: int(env, 'SIGNED_URL_WINDOW_SECONDS', 3600),
    playgroundTtlSeconds: int(env, 'PLAYGROUND_TTL_SECONDS', 900),
    playgroundUrlTtlSeconds: int(env, 'PLAYGROUND_URL_TTL_SECONDS', 300),
    playground: playgroundMode(text(env, 'PLAYGROUND', 'on')),
    workerUrls: list(env, 'WORKER_URLS').map((u) => u.replace(/\/+$/, '')),
    workerSecret: text(env, 'WORKER_SECRET'),
    workerHeaders: accessHeaders(env),
    pool: {
      deadlineMs: int(env, 'POOL_DEADLINE_MS', 15000),
      attemptMs: int(env, 'POOL_ATTEMPT_MS', 4000),
      breakerThreshold: int(env, 'POOL_BREAKER_THRESHOLD', 3),
      breakerCooldownMs: int(env, 'POOL_BREAKER_COOLDOWN_MS', 10000),
      backoffBaseMs: int(env, 'POOL_BACKOFF_BASE_MS', 50),
      readyTimeoutMs: int(env, 'POOL_READY_TIMEOUT_MS', 1000),
      maxInFlight: int(env, 'POOL_MAX_IN_FLIGHT', 64),
    },
    rateLimit: { perMinute, burst: int(env, 'RATE_LIMIT_BURST', Math.max(1, Math.ceil(perMinute / 2))) },
    playgroundRateLimit: { perMinute: playgroundPerMinute, burst: int(env, 'PLAYGROUND_RATE_LIMIT_BURST', 60) },
    playgroundGenerations: { perMinute: int(env, 'PLAYGROUND_GENERATIONS_PER_MINUTE', 20), burst: int(env, 'PLAYGROUND_GENERATIONS_BURST', 40) },
    trustedProxies: list(env, 'TRUSTED_PROXIES'),
    allowedHosts: list(env, 'ALLOWED_HOSTS').map((h) => h.toLowerCase()),
    integrityKey: text(env, 'STORAGE_INTEGRITY_KEY') || undefined,
    cache: { maxEntries: int(env, 'CACHE_MAX_ENTRIES', 2000), maxBytes: int(env, 'CACHE_MAX_BYTES', 64 * 1024 * 1024) },
    corsOrigins: list(env, 'CORS_ORIGINS').length > 0 ? list(env, 'CORS_ORIGINS') : ['*'],
    publicOrigin: text(env, 'PUBLIC_ORIGIN') || undefined,
    logRequests: text(env, 'LOG_REQUESTS', 'true') !== 'false',
    maxBodyBytes: 16 * 1024,
  };
}
