// Node entry (self-hosting): the same app on @hono/node-server with an in-process LRU, the S3 API
// via aws4fetch, API-key hashes from the environment and in-process token buckets.
// Started by node-main.ts (`npm run start:edge`); tests and the benchmark start it in-process.
import { createHash } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { createEdgeApp, type EdgeDeps } from '../app.js';
import { envKeyStore } from '../auth/index.js';
import { memoryCache } from '../cache/adapters/memory.js';
import { readConfig, type EnvRecord } from '../config/index.js';
import { registry } from '../models/registry.js';
import { WorkerPool } from '../pool/index.js';
import { memoryRateLimiter } from '../rate-limit/adapters/memory.js';
import { s3StoreFromEnv } from '../storage/adapters/s3.js';

export function nodeDeps(env: EnvRecord): EdgeDeps {
  const config = readConfig(env);
  return {
    config,
    registry,
    keys: envKeyStore(config.apiKeyHashes),
    limiter: memoryRateLimiter(),
    cache: memoryCache(config.cache),
    store: s3StoreFromEnv(env),
    pool: new WorkerPool({ workerUrls: config.workerUrls, secret: config.workerSecret, ...config.pool }),
    // Same SHA-256 as WebCrypto's, without a thread-pool round trip per request.
    hashKey: async (key) => createHash('sha256').update(key, 'utf8').digest('hex'),
  };
}

export interface RunningEdge {
  url: string;
  server: ServerType;
  close(): Promise<void>;
}

/** Starts the edge on Node; port 0 picks a free one. */
export function startNodeEdge(options: { env: EnvRecord; port?: number; hostname?: string; deps?: Partial<EdgeDeps> }): Promise<RunningEdge> {
  const app = createEdgeApp({ ...nodeDeps(options.env), ...options.deps });
  const hostname = options.hostname ?? '127.0.0.1';
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname }, (info) => {
      resolve({
        url: `http://${hostname}:${info.port}`,
        server,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
