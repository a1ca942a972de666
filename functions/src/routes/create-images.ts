// POST /v1/images: up to 16 images generated synchronously (consecutive seeds), answered with their
// canonical and signed URLs. A batch pays for what it delivers, as n single requests would: each
// generated image its price (format and pixels), each image a cache or storage held one token, each
// image that failed nothing. The whole price is taken first and what was not spent given back.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { canonicalPath, consecutiveSeeds, parseImageBody } from '@imf/contract';
import type { ImageLookup } from '../images/tiers.js';
import { documented } from '../openapi/document.js';
import { bearer, imageRequestBody, problems, TIERS } from '../openapi/schemas.js';
import { invalidParameters, problemResponse } from '../problem/index.js';
import { generationPrice, imageLine, keyId, keyIdentity, keySigner } from '../access/index.js';
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
    const identity = keyIdentity(keyId(caller.key.hash));
    const price = generationPrice(request, config.rateLimit);
    if (n * price > config.rateLimit.burst) {
      const most = Math.max(1, Math.floor(config.rateLimit.burst / price));
      const detail = `${n} images of ${request.size} px ${request.format} cost up to ${n * price} tokens, more than this key's bucket holds (${config.rateLimit.burst}); ask for at most ${most}`;
      return problemResponse(invalidParameters([{ parameter: 'n', rule: 'range', detail }], '/v1/images'));
    }
    // The price depends on n, so the bucket is charged once the body is read: all of it up front,
    // as if every image were generated.
    const charged = await access.charge(identity, config.rateLimit, n * price, imageLine(request, n, n));
    if (!charged.ok) return charged.response;

    const images = await Promise.all(consecutiveSeeds(request, n).map((r) => resolver.keyed(r)));
    const results = await Promise.all(images.map((image) => lookup(image, ctx.defer(c))));
    const failures = results.filter((r): r is Extract<ImageLookup, { failure: unknown }> => !r.ok && 'failure' in r);
    const held = results.filter((r) => r.ok && r.tier !== 'generated').length;
    // Given back: an image a cache or storage held keeps one token; a failed one keeps nothing.
    const refunds = [
      { tokens: held * (price - 1), line: imageLine(request, 0, held) },
      { tokens: failures.length * price, line: imageLine(request, failures.length, failures.length) },
    ].filter((r) => r.line.images > 0 || r.line.generations > 0);
    let headers = charged.headers;
    if (refunds.length > 0) {
      await Promise.all(refunds.map((r) => access.refund(identity, config.rateLimit, r.tokens, r.line)));
      const now = await access.charge(identity, config.rateLimit, 0);
      if (now.ok) headers = now.headers;
    }
    if (failures.length > 0) {
      const worst = failures.reduce((a, b) => (b.failure.status > a.failure.status ? b : a));
      return lookupFailure(worst, headers);
    }
    const entries = await Promise.all(
      images.map(async (image, i) => {
        const signed = await ctx.signedUrl(c, image.request, config.signedUrlTtlSeconds, keySigner(caller.key.hash), config.signedUrlWindowSeconds);
        const tier = (results[i] as Extract<ImageLookup, { ok: true }>).tier;
        return { url: ctx.origin(c) + canonicalPath(image.request), signed_url: signed.url, expires: signed.expires, seed: image.request.seed, key: image.key, tier };
      }),
    );
    const model = registry[request.model]!;
    return c.json({ model: model.id, version: model.version, images: entries }, 200, headers);
  });
}
