// The playground: the page at / with its script and style, and its own signer. The page holds no
// API key, only a short-lived page token (a signed /playground path). What the page can do is what
// a person at it can: its signer answers only the page's own site (Origin/Referer, where a browser
// sends them), under a per-client rate limit, and mints URLs that live minutes; a generation through
// such a URL is charged to the page token's and to the client's generation budgets. PLAYGROUND
// switches it: `on`, `cached` (only images already stored are signed; nothing is generated) or `off`.
import { signPath, type ImageRequest } from '@imf/contract';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { PLAYGROUND_SIGNER } from '../access/index.js';
import { playgroundPage, PLAYGROUND_SCRIPT, PLAYGROUND_STYLE, PLAYGROUND_TOKEN_HEADER } from '../pages/playground.js';
import { problem, problemResponse } from '../problem/index.js';
import type { RouteContext } from './context.js';
import { signFromBody } from './sign-image.js';

/** A page token is the signed path `/playground?n=<nonce>`: each page load gets its own, and so its own budget. */
const PAGE_TOKEN = /^\/playground\?n=[A-Za-z0-9_-]{16}$/;

function pageTokenPath(): string {
  let nonce = '';
  for (const b of crypto.getRandomValues(new Uint8Array(16))) nonce += 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[b & 63];
  return `/playground?n=${nonce}`;
}
/** The page token's own signer: it is a token, not a URL anything is charged to. */
const PAGE_TOKEN_SIGNER = 'page';
const ASSET_CACHING = 'public, max-age=300';

/** The host a browser request to the signer must come from: PUBLIC_ORIGIN's, else the request's own. */
function expectedHost(ctx: RouteContext, c: Context): string {
  return new URL(ctx.config.publicOrigin ?? c.req.url).host.toLowerCase();
}

/** Whether Origin (or, without it, Referer) names another site; neither header: not a browser, allowed. */
function crossSite(ctx: RouteContext, c: Context): string | undefined {
  const sent = c.req.header('origin') ?? c.req.header('referer');
  if (sent === undefined) return undefined;
  let host: string;
  try {
    host = new URL(sent).host.toLowerCase();
  } catch {
    return sent.slice(0, 100); // "null" (a sandboxed frame, a file) or garbage: not the page
  }
  return host === expectedHost(ctx, c) ? undefined : host;
}

export function registerPlayground(app: OpenAPIHono, ctx: RouteContext): void {
  const { config, registry, access, nowSeconds, lookup, resolver } = ctx;
  const off = () => problemResponse(problem('not-found', 'the playground is switched off on this deployment (PLAYGROUND=off)'));

  app.get('/', async (c) => {
    if (config.playground === 'off') return off();
    const token = await signPath(pageTokenPath(), config.signingKeys, nowSeconds() + config.playgroundTtlSeconds, PAGE_TOKEN_SIGNER);
    return c.html(playgroundPage(registry, token), 200, { 'cache-control': 'no-store' });
  });
  app.get('/playground.js', (c) => c.body(PLAYGROUND_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': ASSET_CACHING }));
  app.get('/playground.css', (c) => c.body(PLAYGROUND_STYLE, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': ASSET_CACHING }));

  app.post('/playground/sign', async (c) => {
    if (config.playground === 'off') return off();
    const foreign = crossSite(ctx, c);
    if (foreign !== undefined) return problemResponse(problem('forbidden-origin', `the playground signs only for its own page, not for ${foreign}`));
    const token = c.req.header(PLAYGROUND_TOKEN_HEADER) ?? '';
    const verified = await access.verifySignature(token);
    if (!verified.ok) return verified.response;
    if (!PAGE_TOKEN.test(verified.path)) return problemResponse(problem('bad-signature', 'not a playground token'));
    const charged = await access.chargeClient(`pg-sign:${ctx.client(c)}`, config.playgroundRateLimit);
    if (!charged.ok) return charged.response;
    // The token's id is the start of its MAC: unique per token (its nonce), and nothing to forge from.
    const signer = `${PLAYGROUND_SIGNER}${token.slice(token.lastIndexOf('=') + 1, token.lastIndexOf('=') + 17)}`;
    const tokenExpires = Number(/[?&]exp=(\d+)/.exec(token)?.[1] ?? 0);
    const ttl = Math.max(1, Math.min(config.playgroundUrlTtlSeconds, tokenExpires - nowSeconds()));
    // `cached`: sign only what storage (or this edge's cache) already holds; nothing is generated.
    const stored =
      config.playground === 'cached'
        ? async (request: ImageRequest) => {
            const image = await resolver.keyed(request);
            const found = await lookup(image, ctx.defer(c), async () =>
              problemResponse(problem('generation-refused', 'this playground shows only images already generated (PLAYGROUND=cached); try another seed or class')),
            );
            return found.ok ? undefined : 'refused' in found ? found.refused : problemResponse(problem('generation-refused', 'the image is not stored'));
          }
        : undefined;
    // No window: a playground URL must not outlive its page token, and it lives minutes anyway.
    return signFromBody(ctx, c, { ttlSeconds: ttl, windowSeconds: 0 }, charged.headers, '/playground/sign', signer, stored);
  });
}
