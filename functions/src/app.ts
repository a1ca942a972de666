// The edge router: one Hono app for both runtimes. Everything runtime-specific (cache, storage,
// key store, rate limiter, deferred work) comes in as EdgeDeps; runtime/workers.ts and
// runtime/node.ts build those and hand the app to their server. The routes live in routes/, each
// registered with its OpenAPI definition.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ImageReader, ModelRegistry } from '@imf/contract';
import { createAccess } from './access/index.js';
import type { RuntimeAddress } from './access/client.js';
import type { ApiKeyStore } from './auth/index.js';
import type { EdgeCache } from './cache/types.js';
import type { EdgeConfig } from './config/index.js';
import { apiCors, securityHeaders } from './headers/index.js';
import { createImageResolver } from './images/resolve.js';
import { requestTarget } from './images/target.js';
import { createImageLookup, type EdgeCounters } from './images/tiers.js';
import { consoleSink, redactPath, type LogSink } from './observability/index.js';
import { registerSecuritySchemes } from './openapi/document.js';
import type { WorkerPool } from './pool/index.js';
import { problem, problemResponse } from './problem/index.js';
import type { RateLimiter } from './rate-limit/index.js';
import { memoryRateLimiter } from './rate-limit/adapters/memory.js';
import { allowedMethods } from './routes/allowed-methods.js';
import { routeContext, type TierVars } from './routes/context.js';
import { registerCreateImages } from './routes/create-images.js';
import { registerDocuments } from './routes/documents.js';
import { registerGetImage } from './routes/get-image.js';
import { registerListModels } from './routes/list-models.js';
import { registerOperations } from './routes/operations.js';
import { registerPlayground } from './routes/playground.js';
import { registerSignImage } from './routes/sign-image.js';
import { registerUsage } from './routes/usage.js';

export interface EdgeDeps {
  config: EdgeConfig;
  registry: ModelRegistry;
  keys: ApiKeyStore;
  /** Buckets of API keys. */
  limiter: RateLimiter;
  /** Buckets of client addresses and playground tokens: a table of their own (an in-process one by default). */
  clientLimiter?: RateLimiter;
  /** The connecting address as the runtime knows it (Node: the socket; Workers: CF-Connecting-IP). */
  clientAddress?: RuntimeAddress;
  cache: EdgeCache;
  store: ImageReader | undefined;
  pool: WorkerPool;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
  log?: LogSink;
}

export function createEdgeApp(deps: EdgeDeps): OpenAPIHono {
  const { config, registry, keys, limiter, cache, store, pool } = deps;
  const now = deps.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  const log = deps.log ?? consoleSink;
  const counters: EdgeCounters = { storageIntegrityFailures: 0 };
  const ctx = routeContext({
    config,
    registry,
    pool,
    store,
    log,
    nowSeconds,
    counters,
    runtimeAddress: deps.clientAddress ?? (() => undefined),
    access: createAccess({ keys, limiter, clientLimiter: deps.clientLimiter ?? memoryRateLimiter(Date.now, 100_000, false), signingKeys: config.signingKeys, nowSeconds }),
    resolver: createImageResolver(registry),
    lookup: createImageLookup({ cache, store, pool, log, registry, integrityKey: config.integrityKey, counters }),
  });
  const app = new OpenAPIHono();

  // Logging first, so it sees the final status; only the redacted path is written. The tier comes
  // from the route, not from `c.res.headers`: reading those makes @hono/node-server build a full
  // Headers object for every response, which on Node costs a cached image a good share of its CPU.
  if (config.logRequests) {
    app.use('*', async (c, next) => {
      const started = now();
      await next();
      log({ method: c.req.method, path: redactPath(requestTarget(c.req.url)), status: c.res.status, ms: now() - started, tier: (c as Context<TierVars>).get('tier') });
    });
  }
  app.use('*', securityHeaders());
  app.use('/v1/*', apiCors(config.corsOrigins));

  registerListModels(app, ctx);
  registerGetImage(app, ctx);
  registerCreateImages(app, ctx);
  registerSignImage(app, ctx);
  registerUsage(app, ctx);
  registerOperations(app, ctx);
  registerSecuritySchemes(app);
  registerDocuments(app);
  registerPlayground(app, ctx);

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname.slice(0, 256);
    const allowed = allowedMethods(app.routes, path);
    if (allowed.length === 0) return problemResponse(problem('not-found', `no route for ${c.req.method} ${path}`));
    return problemResponse(problem('method-not-allowed', `${path} answers ${allowed.join(', ')}, not ${c.req.method}`), { allow: allowed.join(', ') });
  });
  app.onError((error, c) => {
    log({ event: 'unhandled', method: c.req.method, path: redactPath(new URL(c.req.url).pathname), error: error instanceof Error ? error.message : String(error) });
    return problemResponse(problem('internal', 'an unexpected error occurred; it has been logged'));
  });

  return app;
}
