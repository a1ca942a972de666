// POST /v1/sign: one image's JSON → a signed URL anyone may fetch until it expires (the URL for
// <img src> and CDNs). The playground's signer (routes/playground.ts) reads the same body.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { parseImageBody, type ImageRequest } from '@imf/contract';
import type { Context } from 'hono';
import { documented } from '../openapi/document.js';
import { bearer, imageRequestBody, problems } from '../openapi/schemas.js';
import { invalidParameters, problemResponse } from '../problem/index.js';
import { keyId, keyIdentity, keySigner } from '../access/index.js';
import type { RouteContext } from './context.js';
import { parseFailure } from './failures.js';
import { readJsonBody } from './json-body.js';

export const signImage = createRoute({
  method: 'post',
  path: '/v1/sign',
  summary: 'Mint a signed URL for one image',
  security: bearer,
  request: { body: imageRequestBody },
  responses: {
    200: { description: 'Signed URL', content: { 'application/json': { schema: z.object({ url: z.string(), expires: z.number().int().describe('Unix seconds') }) } } },
    ...problems(400, 401, 404, 413, 415, 429),
  },
});

/** How long a signed URL lives: at least `ttlSeconds`, its expiry rounded up to a multiple of `windowSeconds`. */
export interface UrlLifetime {
  ttlSeconds: number;
  windowSeconds: number;
}

/**
 * The body's one image as a signed URL living `lifetime`, charged to `signer`; `headers` go on
 * every answer. `check`, when given, may refuse the request before it is signed.
 */
export async function signFromBody(
  ctx: RouteContext,
  c: Context,
  lifetime: UrlLifetime,
  headers: Record<string, string>,
  instance: string,
  signer: string,
  check?: (request: ImageRequest) => Promise<Response | undefined>,
): Promise<Response> {
  const body = await readJsonBody(c.req.raw, ctx.config.maxBodyBytes);
  if (!body.ok) return problemResponse(body.problem, headers);
  const parsed = parseImageBody(ctx.registry, body.value);
  if (!parsed.ok) return parseFailure(parsed, instance, headers);
  if (parsed.value.n !== 1) {
    return problemResponse(invalidParameters([{ parameter: 'n', rule: 'range', detail: 'a signed URL names one image: n must be 1' }], instance), headers);
  }
  const refused = check ? await check(parsed.value.request) : undefined;
  if (refused) return refused;
  return c.json(await ctx.signedUrl(c, parsed.value.request, lifetime.ttlSeconds, signer, lifetime.windowSeconds), 200, headers);
}

export function registerSignImage(app: OpenAPIHono, ctx: RouteContext): void {
  documented(app, signImage, async (c) => {
    const caller = await ctx.access.identify(c);
    if (!caller.ok) return caller.response;
    const charged = await ctx.access.charge(keyIdentity(keyId(caller.key.hash)), ctx.config.rateLimit);
    if (!charged.ok) return charged.response;
    return signFromBody(ctx, c, { ttlSeconds: ctx.config.signedUrlTtlSeconds, windowSeconds: ctx.config.signedUrlWindowSeconds }, charged.headers, '/v1/sign', keySigner(caller.key.hash));
  });
}
