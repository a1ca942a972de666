// The edge router: one Hono app for both runtimes. Everything runtime-specific (cache, storage,
// key store, rate limiter, deferred work) comes in as EdgeDeps; runtime/workers.ts and
// runtime/node.ts build those and hand the app to their server.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  allowedSizes,
  canonicalPath,
  consecutiveSeeds,
  IMAGE_FORMATS,
  imageEtag,
  parseImageBody,
  parseImagePath,
  signPath,
  type ImageRequest,
  type ModelRegistry,
  type ParseResult,
} from '@imf/contract';
import { authenticateBearer, authenticateSignature, hashApiKey, memoizedHasher, type ApiKeyStore } from './auth/index.js';
import { Memo } from './cache/memo.js';
import type { EdgeCache } from './cache/types.js';
import type { EdgeConfig } from './config/index.js';
import { apiCors, bakedHeaders, securityHeaders } from './headers/index.js';
import { etagMatches, IMMUTABLE } from './images/etag.js';
import { readJsonBody } from './images/body.js';
import { carriesSignature, requestTarget } from './images/target.js';
import { createImageSource, TIER_HEADER, type Defer, type ImageLookup, type Tier } from './images/tiers.js';
import { consoleSink, redactPath, type LogSink } from './observability/index.js';
import { documentedRoutes } from './openapi/routes.js';
import { docsPage } from './pages/docs.js';
import { playgroundPage, PLAYGROUND_SCRIPT, PLAYGROUND_STYLE, PLAYGROUND_TOKEN_HEADER } from './pages/playground.js';
import type { WorkerPool } from './pool/index.js';
import { invalidParameters, problem, problemResponse } from './problem/index.js';
import { rateLimitedResponse, rateLimitHeaders, type BucketPolicy, type RateLimiter } from './rate-limit/index.js';
import type { ImageStore } from './storage/types.js';

/**
 * The methods some route answers for this path (HEAD wherever GET): a known path asked with another
 * method is a 405 with `Allow`, not a 404, so a client sees it has the right URL and the wrong verb.
 */
function methodsFor(routes: readonly { method: string; path: string }[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue; // middleware, not endpoints
    const pattern = new RegExp(`^${route.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\\?:\w+/g, '[^/]+')}$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** What the image routes tell the request logger. */
type TierVars = { Variables: { tier?: Tier } };

export interface EdgeDeps {
  config: EdgeConfig;
  registry: ModelRegistry;
  keys: ApiKeyStore;
  limiter: RateLimiter;
  cache: EdgeCache;
  store: ImageStore | undefined;
  pool: WorkerPool;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
  log?: LogSink;
  /** SHA-256 hex of an API key; WebCrypto by default, node:crypto on Node (much cheaper there). */
  hashKey?: (key: string) => Promise<string>;
}

export function createEdgeApp(deps: EdgeDeps): OpenAPIHono {
  const { config, registry, keys, limiter, cache, store, pool } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? consoleSink;
  const { lookup, keyOf } = createImageSource({ cache, store, pool, log });
  const hashKey = memoizedHasher(deps.hashKey ?? hashApiKey);
  // Recently verified signed URLs: a hot <img src> is verified once, then only its expiry is checked.
  const verified = new Memo<{ path: string; expires: number }>(10_000);
  // Canonical image paths seen before, with their image keys: a hot image needs neither parsing nor hashing.
  const canonicalRequests = new Memo<{ request: ImageRequest; key: string }>(10_000);
  const app = new OpenAPIHono();

  const originOf = (c: Context) => config.publicOrigin ?? new URL(c.req.url).origin;
  const deferOf = (c: Context): Defer => (work) => {
    try {
      c.executionCtx.waitUntil(work);
    } catch {
      void work; // Node: no execution context; the promise finishes on its own.
    }
  };
  const nowSeconds = () => Math.floor(now() / 1000);

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

  /** Takes `cost` tokens for this identity; a 429 response, or the headers to add. */
  async function charge(identity: string, policy: BucketPolicy, cost = 1): Promise<{ ok: true; headers: Record<string, string> } | { ok: false; response: Response }> {
    const decision = await limiter.take(identity, policy, cost);
    if (!decision.allowed) return { ok: false, response: rateLimitedResponse(decision, policy) };
    return { ok: true, headers: rateLimitHeaders(decision, policy) };
  }

  function parseFailure(result: Extract<ParseResult<unknown>, { ok: false }>, instance: string, headers: Record<string, string> = {}): Response {
    const p = result.notFound ? problem('not-found', result.issues[0]!.detail, { errors: result.issues, instance }) : invalidParameters(result.issues, instance);
    return problemResponse(p, headers);
  }

  function lookupFailure(result: Extract<ImageLookup, { ok: false }>, headers: Record<string, string> = {}): Response {
    const { status, detail, retryAfterSeconds } = result.failure;
    const kind = status === 504 ? 'pool-timeout' : status === 502 ? 'bad-gateway' : 'pool-unavailable';
    const extra: Record<string, string> = status === 502 ? {} : { 'retry-after': String(retryAfterSeconds) };
    return problemResponse(problem(kind, detail), Object.assign({}, headers, extra));
  }

  /** The image, its validators and the tier; `headers` is taken over (the caller's fresh object). */
  function imageResponse(c: Context, result: Extract<ImageLookup, { ok: true }>, headers: Record<string, string>): Response {
    (c as Context<TierVars>).set('tier', result.tier);
    headers['content-type'] = result.image.contentType;
    headers['content-length'] = String(result.image.body.byteLength);
    headers.etag = imageEtag(result.key);
    headers['cache-control'] = IMMUTABLE;
    headers[TIER_HEADER] = result.tier;
    return new Response(result.image.body, { headers });
  }

  async function signedUrl(c: Context, req: ImageRequest, ttlSeconds: number) {
    const expires = nowSeconds() + ttlSeconds;
    return { url: originOf(c) + (await signPath(canonicalPath(req), config.signingKeys, expires)), expires };
  }

  // ---- public API -------------------------------------------------------------------------

  app.get('/v1/models', (c) =>
    c.json({
      models: Object.values(registry).map((m) => ({
        id: m.id,
        version: m.version,
        resolution: m.image.width,
        channels: m.image.channels,
        classes: m.classes,
        null_class: m.null_class,
        guidance: m.guidance,
        interval: m.interval.default,
        nfe: m.nfe,
        sizes: allowedSizes(m),
        formats: [...IMAGE_FORMATS],
      })),
    }),
  );

  app.get('/v1/images/:model/:file', async (c) => {
    const received = requestTarget(c.req.url);
    const signed = carriesSignature(received);
    let unsigned = received;
    let headers: Record<string, string> = {};

    if (signed) {
      let hit = verified.get(received);
      if (hit && hit.expires <= nowSeconds()) {
        verified.delete(received);
        hit = undefined;
      }
      if (!hit) {
        const result = await authenticateSignature(received, config.signingKeys, nowSeconds());
        if (!result.ok) return result.response;
        hit = { path: result.path, expires: result.expires };
        verified.set(received, hit);
      }
      unsigned = hit.path;
    } else {
      const auth = await authenticateBearer(c.req.header('authorization'), keys, hashKey);
      if (!auth.ok) return auth.response;
      const charged = await charge(auth.key.hash, config.rateLimit);
      if (!charged.ok) return charged.response;
      headers = charged.headers;
    }

    // A canonical path seen before needs no parsing: it names the same request for this deployment.
    let known = canonicalRequests.get(unsigned);
    if (!known) {
      const url = new URL(c.req.url);
      const query = signed ? new URL(unsigned, url.origin).searchParams : url.searchParams;
      const parsed = parseImagePath(registry, { model: c.req.param('model'), file: c.req.param('file'), query });
      if (!parsed.ok) return parseFailure(parsed, url.pathname, headers);
      const canonical = canonicalPath(parsed.value.request);
      // Signed URLs are minted canonical; redirecting one would drop its signature.
      if (!signed && canonical !== received) {
        return new Response(null, {
          status: 302,
          headers: Object.assign({}, headers, { location: originOf(c) + canonical, 'cache-control': parsed.value.seedDrawn ? 'no-store' : 'public, max-age=300' }),
        });
      }
      const request = parsed.value.request;
      known = { request, key: await keyOf(request, registry[request.model]!.version) };
      if (canonical === unsigned) canonicalRequests.set(unsigned, known);
    }

    const { request, key } = known;
    const etag = imageEtag(key);
    // An image key names one image forever, so a client holding the ETag holds the bytes.
    if (etagMatches(c.req.header('if-none-match'), etag)) {
      return new Response(null, { status: 304, headers: Object.assign(bakedHeaders(c), headers, { etag, 'cache-control': IMMUTABLE }) });
    }

    const result = await lookup(request, registry[request.model]!.version, deferOf(c), key);
    return result.ok ? imageResponse(c, result, Object.assign(bakedHeaders(c), headers)) : lookupFailure(result, headers);
  });

  app.post('/v1/images', async (c) => {
    const auth = await authenticateBearer(c.req.header('authorization'), keys, hashKey);
    if (!auth.ok) return auth.response;
    const body = await readJsonBody(c.req.raw, config.maxBodyBytes);
    if (!body.ok) return problemResponse(body.problem);
    const parsed = parseImageBody(registry, body.value);
    if (!parsed.ok) return parseFailure(parsed, '/v1/images');
    const { request, n } = parsed.value;
    // One token per image: a batch of 16 costs what 16 single requests do.
    const charged = await charge(auth.key.hash, config.rateLimit, n);
    if (!charged.ok) return charged.response;

    const model = registry[request.model]!;
    const requests = consecutiveSeeds(request, n);
    const results = await Promise.all(requests.map((r) => lookup(r, model.version, deferOf(c))));
    const failures = results.filter((r): r is Extract<ImageLookup, { ok: false }> => !r.ok);
    if (failures.length > 0) {
      const worst = failures.reduce((a, b) => (b.failure.status > a.failure.status ? b : a));
      return lookupFailure(worst, charged.headers);
    }
    const images = await Promise.all(
      requests.map(async (r, i) => {
        const result = results[i] as Extract<ImageLookup, { ok: true }>;
        const signedEntry = await signedUrl(c, r, config.signedUrlTtlSeconds);
        return { url: originOf(c) + canonicalPath(r), signed_url: signedEntry.url, expires: signedEntry.expires, seed: r.seed, key: result.key, tier: result.tier };
      }),
    );
    return c.json({ model: model.id, version: model.version, images }, 200, charged.headers);
  });

  /** Shared by POST /v1/sign and the playground: one image's JSON → a signed URL. */
  async function signFromBody(c: Context, ttlSeconds: number, headers: Record<string, string>, instance: string): Promise<Response> {
    const body = await readJsonBody(c.req.raw, config.maxBodyBytes);
    if (!body.ok) return problemResponse(body.problem, headers);
    const parsed = parseImageBody(registry, body.value);
    if (!parsed.ok) return parseFailure(parsed, instance, headers);
    if (parsed.value.n !== 1) {
      return problemResponse(invalidParameters([{ parameter: 'n', rule: 'range', detail: 'a signed URL names one image: n must be 1' }], instance), headers);
    }
    return c.json(await signedUrl(c, parsed.value.request, ttlSeconds), 200, headers);
  }

  app.post('/v1/sign', async (c) => {
    const auth = await authenticateBearer(c.req.header('authorization'), keys, hashKey);
    if (!auth.ok) return auth.response;
    const charged = await charge(auth.key.hash, config.rateLimit);
    if (!charged.ok) return charged.response;
    return signFromBody(c, config.signedUrlTtlSeconds, charged.headers, '/v1/sign');
  });

  // ---- operations -------------------------------------------------------------------------

  app.get('/healthz', (c) => c.json({ status: 'ok' as const }));

  app.get('/readyz', async (c) => {
    const [workers, storageReady] = await Promise.all([pool.probe(), store ? store.ready() : Promise.resolve(undefined)]);
    const readyWorkers = workers.filter((w) => w.ready).length;
    const storage = storageReady === undefined ? 'not-configured' : storageReady ? 'ready' : 'unreachable';
    const ready = readyWorkers > 0 && storage !== 'unreachable';
    return c.json({ status: ready ? 'ready' : 'unready', pool: { ready: readyWorkers, total: workers.length }, storage }, ready ? 200 : 503, { 'cache-control': 'no-store' });
  });

  // ---- documents and pages ----------------------------------------------------------------

  for (const route of documentedRoutes) app.openAPIRegistry.registerPath(route);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'API key' });
  const document = () =>
    app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: { title: 'iMF image API', version: '1.0.0', description: 'One-step image generation with improved MeanFlow models.' },
    });
  app.get('/openapi.json', (c) => c.json(document()));
  app.get('/docs', (c) => c.html(docsPage(document())));

  app.get('/', async (c) => {
    const token = await signPath('/playground', config.signingKeys, nowSeconds() + config.playgroundTtlSeconds);
    return c.html(playgroundPage(registry, token), 200, { 'cache-control': 'no-store' });
  });
  app.get('/playground.js', (c) => c.body(PLAYGROUND_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' }));
  app.get('/playground.css', (c) => c.body(PLAYGROUND_STYLE, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=300' }));

  // The page's own signer: no API key in the page, only a short-lived page token, and a per-client
  // limit. It can only mint URLs as short-lived as the page token.
  app.post('/playground/sign', async (c) => {
    const token = c.req.header(PLAYGROUND_TOKEN_HEADER) ?? '';
    const verified = await authenticateSignature(token, config.signingKeys, nowSeconds());
    if (!verified.ok || verified.path !== '/playground') return verified.ok ? problemResponse(problem('bad-signature', 'not a playground token')) : verified.response;
    const client = c.req.header('cf-connecting-ip') ?? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? 'anonymous';
    const charged = await charge(`playground:${client}`, config.playgroundRateLimit);
    if (!charged.ok) return charged.response;
    return signFromBody(c, config.playgroundTtlSeconds, charged.headers, '/playground/sign');
  });

  // ---- errors -----------------------------------------------------------------------------

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allowed = methodsFor(app.routes, path);
    if (allowed.length === 0) return problemResponse(problem('not-found', `no route for ${c.req.method} ${path}`));
    return problemResponse(problem('method-not-allowed', `${path} answers ${allowed.join(', ')}, not ${c.req.method}`), { allow: allowed.join(', ') });
  });
  app.onError((error, c) => {
    log({ event: 'unhandled', method: c.req.method, path: redactPath(new URL(c.req.url).pathname), error: error instanceof Error ? error.message : String(error) });
    return problemResponse(problem('internal', 'an unexpected error occurred; it has been logged'));
  });

  return app;
}
