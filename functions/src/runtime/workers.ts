// Cloudflare Workers entry: the edge app with the Cache API, the R2 binding (or the S3 API when
// S3_ENDPOINT is set, e.g. in local dev), API-key hashes in KV and/or a secret, and a Durable
// Object per API key for rate limits. State (breakers, single-flight) lives per isolate.
import { s3LocationFromEnv } from '@imf/contract';
import { createEdgeApp, type EdgeDeps } from '../app.js';
import { chainKeyStores, envKeyStore, kvKeyStore } from '../auth/index.js';
import { cacheApiCache } from '../cache/adapters/cache-api.js';
import { layeredCache } from '../cache/adapters/layered.js';
import { memoryCache } from '../cache/adapters/memory.js';
import { readConfig } from '../config/index.js';
import { registry } from '../models/registry.js';
import { WorkerPool } from '../pool/index.js';
import { durableObjectRateLimiter, type RateLimiterObject } from '../rate-limit/adapters/durable-object.js';
import { memoryRateLimiter } from '../rate-limit/adapters/memory.js';
import { r2Store } from '../storage/adapters/r2.js';
import { fetchS3Store } from '../storage/adapters/s3.js';

export { RateLimiterObject } from '../rate-limit/adapters/durable-object.js';

export interface WorkersEnv {
  IMAGES?: R2Bucket;
  API_KEYS?: KVNamespace;
  RATE_LIMITER?: DurableObjectNamespace<RateLimiterObject>;
  [name: string]: unknown;
}

export function workersDeps(env: WorkersEnv): EdgeDeps {
  const config = readConfig(env);
  const location = s3LocationFromEnv(env);
  const store = env.IMAGES ? r2Store(env.IMAGES) : location && fetchS3Store(location);
  return {
    config,
    registry,
    keys: env.API_KEYS ? chainKeyStores(kvKeyStore(env.API_KEYS), envKeyStore(config.apiKeyHashes)) : envKeyStore(config.apiKeyHashes),
    limiter: env.RATE_LIMITER ? durableObjectRateLimiter(env.RATE_LIMITER) : memoryRateLimiter(),
    // Addresses and playground tokens lease from objects of their own names, through a lease table
    // of their own, so a flood of addresses never pushes a key's lease out.
    // Nobody reads their usage: no books.
    clientLimiter: env.RATE_LIMITER ? durableObjectRateLimiter(env.RATE_LIMITER, Date.now, false) : memoryRateLimiter(Date.now, 100_000, false),
    // Cloudflare sets CF-Connecting-IP to the connecting address, replacing any value the client sent.
    clientAddress: (c) => c.req.header('cf-connecting-ip'),
    // Hot images in the isolate's memory (bounded well below its 128 MB), then the Cache API.
    cache: layeredCache(
      memoryCache({ maxEntries: Math.min(config.cache.maxEntries, 1000), maxBytes: Math.min(config.cache.maxBytes, 16 * 1024 * 1024) }),
      cacheApiCache(caches.default),
    ),
    store,
    pool: new WorkerPool({ workerUrls: config.workerUrls, secret: config.workerSecret, headers: config.workerHeaders, ...config.pool }),
  };
}

// One app per env object, i.e. per isolate in production: breakers and the LRU of in-flight
// requests survive between requests of the same isolate.
const apps = new WeakMap<object, ReturnType<typeof createEdgeApp>>();

export default {
  fetch(request, env, ctx) {
    let app = apps.get(env);
    if (!app) {
      app = createEdgeApp(workersDeps(env));
      apps.set(env, app);
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<WorkersEnv>;
