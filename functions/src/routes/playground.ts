// The playground: the page at / with its script and style, and its own signer. The page holds no
// API key, only a short-lived page token (a signed /playground path); its signer mints URLs no
// longer-lived than that token, under a per-client rate limit.
import { signPath } from '@imf/contract';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { playgroundPage, PLAYGROUND_SCRIPT, PLAYGROUND_STYLE, PLAYGROUND_TOKEN_HEADER } from '../pages/playground.js';
import { problem, problemResponse } from '../problem/index.js';
import type { RouteContext } from './context.js';
import { signFromBody } from './sign-image.js';

const PAGE_TOKEN_PATH = '/playground';
const ASSET_CACHING = 'public, max-age=300';

export function registerPlayground(app: OpenAPIHono, ctx: RouteContext): void {
  const { config, registry, access, nowSeconds } = ctx;

  app.get('/', async (c) => {
    const token = await signPath(PAGE_TOKEN_PATH, config.signingKeys, nowSeconds() + config.playgroundTtlSeconds);
    return c.html(playgroundPage(registry, token), 200, { 'cache-control': 'no-store' });
  });
  app.get('/playground.js', (c) => c.body(PLAYGROUND_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': ASSET_CACHING }));
  app.get('/playground.css', (c) => c.body(PLAYGROUND_STYLE, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': ASSET_CACHING }));

  app.post('/playground/sign', async (c) => {
    const token = c.req.header(PLAYGROUND_TOKEN_HEADER) ?? '';
    const verified = await access.verifySignature(token);
    if (!verified.ok) return verified.response;
    if (verified.path !== PAGE_TOKEN_PATH) return problemResponse(problem('bad-signature', 'not a playground token'));
    const client = c.req.header('cf-connecting-ip') ?? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? 'anonymous';
    const charged = await access.charge(`playground:${client}`, config.playgroundRateLimit);
    if (!charged.ok) return charged.response;
    return signFromBody(ctx, c, config.playgroundTtlSeconds, charged.headers, '/playground/sign');
  });
}
