// POST /v1/images: up to 16 images generated synchronously (consecutive seeds), answered with their
// canonical and signed URLs. A batch of n images costs n tokens, what n single requests cost.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { canonicalPath, consecutiveSeeds, parseImageBody } from '@imf/contract';
import type { ImageLookup } from '../images/tiers.js';
import { documented } from '../openapi/document.js';
import { bearer, imageRequestBody, problems, TIERS } from '../openapi/schemas.js';
import { problemResponse } from '../problem/index.js';
import { keyId, keyIdentity, keySigner } from '../access/index.js';
import type { RouteContext } from './context.js';
import { lookupFailure, parseFailure } from './failures.js';
import { readJsonBody } from './json-body.js';

const generatedImage = z
  .object({
    url: z.string().describe('Canonical image URL (needs the API key)'),
    signed_url: z.string().describe('Signed URL anyone may fetch until expires'),
    expires: z.number().int(),
    seed: z.number().int(),
    key: z.string().describe('Image key (also the ETag)'),
    tier: z.enum(TIERS),
  })
  .openapi('GeneratedImage');

export const createImages = createRoute({
  method: 'post',
  path: '/v1/images',
  summary: 'Generate up to 16 images synchronously',
  security: bearer,
  request: { body: imageRequestBody },
  responses: {
    200: {
      description: 'The images, by canonical URL',
      content: { 'application/json': { schema: z.object({ model: z.string(), version: z.string(), images: z.array(generatedImage) }) } },
    },
    ...problems(400, 401, 404, 413, 415, 429, 502, 503, 504),
  },
});

export function registerCreateImages(app: OpenAPIHono, ctx: RouteContext): void {
  const { config, registry, access, resolver, lookup } = ctx;
  documented(app, createImages, async (c) => {
    const caller = await access.identify(c);
    if (!caller.ok) return caller.response;
    const body = await readJsonBody(c.req.raw, config.maxBodyBytes);
    if (!body.ok) return problemResponse(body.problem);
    const parsed = parseImageBody(registry, body.value);
    if (!parsed.ok) return parseFailure(parsed, '/v1/images');
    const { request, n } = parsed.value;
    // The price depends on n, so the bucket is charged once the body is read.
    const charged = await access.charge(keyIdentity(keyId(caller.key.hash)), config.rateLimit, n);
    if (!charged.ok) return charged.response;

    const images = await Promise.all(consecutiveSeeds(request, n).map((r) => resolver.keyed(r)));
    const results = await Promise.all(images.map((image) => lookup(image, ctx.defer(c))));
    const failures = results.filter((r): r is Extract<ImageLookup, { failure: unknown }> => !r.ok && 'failure' in r);
    if (failures.length > 0) {
      const worst = failures.reduce((a, b) => (b.failure.status > a.failure.status ? b : a));
      return lookupFailure(worst, charged.headers);
    }
    const entries = await Promise.all(
      images.map(async (image, i) => {
        const signed = await ctx.signedUrl(c, image.request, config.signedUrlTtlSeconds, keySigner(caller.key.hash), config.signedUrlWindowSeconds);
        const tier = (results[i] as Extract<ImageLookup, { ok: true }>).tier;
        return { url: ctx.origin(c) + canonicalPath(image.request), signed_url: signed.url, expires: signed.expires, seed: image.request.seed, key: image.key, tier };
      }),
    );
    const model = registry[request.model]!;
    return c.json({ model: model.id, version: model.version, images: entries }, 200, charged.headers);
  });
}
