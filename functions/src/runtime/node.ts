// Node entry (self-hosting): the same app on @hono/node-server with an in-process LRU, storage
// through the S3 API (node:http + aws4) or the workers' folder of files, API-key hashes from the
// environment and in-process token buckets. With MODELS_DIR it serves the model folders there
// (read at start) instead of the ones bundled at build time.
// Started by node-main.ts (`npm run start:edge`); tests and the benchmark start it in-process.
import type { IncomingMessage } from 'node:http';
import { s3LocationFromEnv, summarize, type ImageReader, type ModelRegistry } from '@imf/contract';
import { readModelRepository } from '@imf/contract/models/node';
import { filesystemStore, nodeS3Store } from '@imf/contract/storage/node';
import { createServer } from 'node:http';
import { getRequestListener, type ServerType } from '@hono/node-server';
import { createEdgeApp, type EdgeDeps } from '../app.js';
import { envKeyStore } from '../auth/index.js';
import { memoryCache } from '../cache/adapters/memory.js';
import { readConfig, type EnvRecord } from '../config/index.js';
import { buildRegistry, registry as bundledRegistry } from '../models/registry.js';
import { WorkerPool } from '../pool/index.js';
import { memoryRateLimiter } from '../rate-limit/adapters/memory.js';
import { answerClientErrors, refuseMissingHost, requestErrorResponse } from './node-client-errors.js';
import { nodeWorkerFetch } from './node-worker-fetch.js';

/**
 * The models of MODELS_DIR's folders (read by the contract's model repository reader), or the
 * bundled ones without it. A folder the reader refuses is left out with a line on stderr, as the
 * worker refuses it.
 */
export function registryFromEnv(env: EnvRecord): ModelRegistry {
  const dir = typeof env.MODELS_DIR === 'string' && env.MODELS_DIR !== '' ? env.MODELS_DIR : undefined;
  if (!dir) return bundledRegistry;
  const { models, refused } = readModelRepository(dir);
  for (const { dir: folder, reason } of refused) console.error(JSON.stringify({ event: 'model-refused', folder, reason }));
  return buildRegistry(models.map(({ manifest }) => summarize(manifest)));
}

/**
 * The storage the environment names: the S3 API at S3_ENDPOINT, else the folder the workers write
 * files into (STORAGE_DIR, their filesystem store), else none (every miss goes to the pool).
 */
export function storeFromEnv(env: EnvRecord): ImageReader | undefined {
  const location = s3LocationFromEnv(env);
  if (location) return nodeS3Store(location);
  const dir = typeof env.STORAGE_DIR === 'string' && env.STORAGE_DIR !== '' ? env.STORAGE_DIR : undefined;
  return dir ? filesystemStore(dir) : undefined;
}

export function nodeDeps(env: EnvRecord): EdgeDeps {
  const config = readConfig(env);
  return {
    config,
    registry: registryFromEnv(env),
    keys: envKeyStore(config.apiKeyHashes),
    limiter: memoryRateLimiter(),
    clientLimiter: memoryRateLimiter(Date.now, 100_000, false), // nobody reads their usage: no books
    // The socket's peer; X-Forwarded-For counts only from TRUSTED_PROXIES (access/client.ts).
    clientAddress: (c) => (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress,
    cache: memoryCache(config.cache),
    store: storeFromEnv(env),
    pool: new WorkerPool({ workerUrls: config.workerUrls, secret: config.workerSecret, headers: config.workerHeaders, ...config.pool, fetch: nodeWorkerFetch() }),
  };
}

export interface RunningEdge {
  url: string;
  server: ServerType;
  close(): Promise<void>;
}

/**
 * How long Node's server waits for a client: the headers (HEADERS_TIMEOUT_MS, 10 s) and the whole
 * request (REQUEST_TIMEOUT_MS, 30 s), checked every second, so a silent or trickling connection is
 * answered 408 and closed in bounded time (Node's defaults held one for 60–90 s); an idle
 * keep-alive connection closes after 5 s.
 */
export function nodeServerTimeouts(env: EnvRecord): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number; keepAliveTimeout: number } {
  const ms = (name: string, fallback: number) => {
    const raw = typeof env[name] === 'string' ? (env[name] as string).trim() : '';
    const value = raw === '' ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of milliseconds, got "${raw}"`);
    return value;
  };
  const headersTimeout = ms('HEADERS_TIMEOUT_MS', 10_000);
  // Node requires requestTimeout ≥ headersTimeout.
  const requestTimeout = Math.max(headersTimeout, ms('REQUEST_TIMEOUT_MS', 30_000));
  return { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout), keepAliveTimeout: 5000 };
}

/** Starts the edge on Node; port 0 picks a free one. */
export function startNodeEdge(options: { env: EnvRecord; port?: number; hostname?: string; deps?: Partial<EdgeDeps> }): Promise<RunningEdge> {
  const app = createEdgeApp({ ...nodeDeps(options.env), ...options.deps });
  const hostname = options.hostname ?? '127.0.0.1';
  const timeouts = nodeServerTimeouts(options.env);
  // A request that cannot become a Request (RequestError) is answered 400 by errorHandler; anything
  // else that reaches it escaped the app's own error handling and is a 500 problem.
  const listener = getRequestListener(app.fetch, { hostname, errorHandler: requestErrorResponse });
  // requireHostHeader: false lets a request without Host reach refuseMissingHost (Node's own
  // refusal is a bare 400).
  const server = createServer({ ...timeouts, requireHostHeader: false }, (req, res) => {
    if (!refuseMissingHost(req, res)) void listener(req, res);
  });
  answerClientErrors(server);
  return new Promise((resolve) => {
    server.listen(options.port ?? 8787, hostname, () => {
      const address = server.address();
      resolve({
        url: `http://${hostname}:${typeof address === 'object' && address ? address.port : options.port}`,
        server,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
