// GET /v1/images/{model}/{file}: the canonical image URL, the hot path. The caller is a bearer key
// or a signed URL; the target resolves to a request and its key (or to the canonical URL, which a
// bearer caller is redirected to); the ETag answers 304; then the tiers answer.
//
// What a bearer caller pays: one token when the route answers with an image, a 304 or a problem,
// and for a miss the generation's price (by format and pixels, contract/src/price.ts) instead,
// given back but for that token if the generation fails. A redirect to the canonical URL is free:
// the request continues there and pays once, so following a redirect costs what asking the
// canonical URL directly does. A signed URL costs nothing while an edge cache or storage answers
// it; one that would generate is charged its price to its signer (`by`): the API key's bucket, or
// the playground token's and the client's generation budgets.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  CONTENT_TYPES,
  EXPIRES_PARAM,
  IMAGE_QUERY_PARAMS,
  imageQuerySchema,
  IMMUTABLE_CACHE_CONTROL,
  KEY_ID_PARAM,
  MAC_PARAM,
  SIGNATURE_PARAMS,
  SIGNER_PARAM,
  type SignatureParam,
} from '@imf/contract';
import type { Context } from 'hono';
import { bakedHeaders } from '../headers/index.js';
import { etagMatches } from '../images/etag.js';
import type { NotCanonical, ResolvedImage } from '../images/resolve.js';
import { carriesSignature, requestTarget } from '../images/target.js';
import { TIER_HEADER, type ImageLookup } from '../images/tiers.js';
import { documented } from '../openapi/document.js';
import { bearer, problems, QUALITY_DESCRIPTION, TIERS } from '../openapi/schemas.js';
import { generationPrice, imageLine, keyId, keyIdentity } from '../access/index.js';
import { NO_IMAGE } from '../rate-limit/index.js';
import type { Admission, RouteContext, TierVars } from './context.js';
import { lookupFailure, parseFailure } from './failures.js';

const SIGNATURE_DESCRIPTIONS: Record<SignatureParam, string> = {
  [SIGNER_PARAM]: 'Signed URLs: who signed (an API key id or a playground token id), charged for generations',
  [EXPIRES_PARAM]: 'Signed URLs: expiry, Unix seconds',
  [KEY_ID_PARAM]: 'Signed URLs: signing key id',
  [MAC_PARAM]: 'Signed URLs: HMAC-SHA256, base64url',
};

export const getImage = createRoute({
  method: 'get',
  path: '/v1/images/{model}/{file}',
  summary: 'The canonical image URL',
  description:
    `Authenticated by a bearer key or a signature (${SIGNATURE_PARAMS.join(', ')} from POST /v1/sign). A valid but non-canonical request ` +
    `(class name or slug, defaults left out, no seed) is redirected (302) to its canonical URL, whose query is ${IMAGE_QUERY_PARAMS.join(', ')} in that order; ` +
    'the redirect itself costs no rate-limit token.',
  security: [...bearer, {}],
  request: {
    params: z.object({
      model: z.string().openapi({ param: { name: 'model', in: 'path' }, example: 'imf-mnist' }),
      file: z.string().openapi({
        param: { name: 'file', in: 'path' },
        description: '<class>.<png|webp|jpeg>: the class as its index, its name or its slug (golden-retriever; GET /v1/models/{model}/classes lists them); .jpg is JPEG',
        example: '3.png',
      }),
    }),
    query: imageQuerySchema.extend({
      quality: z.string().optional().describe(QUALITY_DESCRIPTION),
      ...Object.fromEntries(SIGNATURE_PARAMS.map((name) => [name, z.string().optional().describe(SIGNATURE_DESCRIPTIONS[name])])),
    }),
    headers: z.object({ 'if-none-match': z.string().optional() }),
  },
  responses: {
    200: {
      description: 'The image',
      headers: {
        ETag: { schema: { type: 'string' }, description: 'Strong ETag: the image key' },
        'Cache-Control': { schema: { type: 'string' }, description: IMMUTABLE_CACHE_CONTROL },
        'X-Image-Tier': { schema: { type: 'string', enum: [...TIERS] }, description: 'Which tier answered' },
      },
      content: Object.fromEntries(Object.values(CONTENT_TYPES).map((type) => [type, { schema: z.string().openapi({ format: 'binary' }) }])),
    },
    302: { description: 'Redirect to the canonical URL', headers: { Location: { schema: { type: 'string' } } } },
    304: { description: 'Not modified (If-None-Match matched the ETag)' },
    ...problems(400, 401, 403, 404, 429, 502, 503, 504),
  },
});

/** The image, its validators and the tier; `headers` is taken over (the caller's fresh object). */
function imageResponse(c: Context, image: ResolvedImage, result: Extract<ImageLookup, { ok: true }>, headers: Record<string, string>): Response {
  (c as Context<TierVars>).set('tier', result.tier);
  headers['content-type'] = result.image.contentType;
  headers['content-length'] = String(result.image.body.byteLength);
  headers.etag = image.etag;
  headers['cache-control'] = IMMUTABLE_CACHE_CONTROL;
  headers[TIER_HEADER] = result.tier;
  return new Response(result.image.body, { headers });
}

export function registerGetImage(app: OpenAPIHono, ctx: RouteContext): void {
  const { config, access, resolver, lookup } = ctx;

  function redirect(c: Context, to: NotCanonical): Response {
    return new Response(null, {
      status: 302,
      headers: { location: ctx.origin(c) + to.canonical, 'cache-control': to.seedDrawn ? 'no-store' : 'public, max-age=300' },
    });
  }

  /** A bearer key's generation: the price beyond the token the request paid, booked as a generation. */
  async function chargeGeneration(identity: string, image: ResolvedImage): Promise<Admission & { headers?: Record<string, string> }> {
    const extra = generationPrice(image.request, config.rateLimit) - 1;
    const line = imageLine(image.request, 0, 1);
    const charged = await access.charge(identity, config.rateLimit, extra, line);
    if (!charged.ok) return charged;
    // On failure the extra and the generation go back; the request's own token stays, for its problem.
    return { ok: true, headers: charged.headers, refund: () => access.refund(identity, config.rateLimit, extra, line) };
  }

  // One path through the handler for both callers, without a helper's extra promise per request:
  // the caller decides the image and the RateLimit headers, then the ETag and the tiers answer.
  documented(app, getImage, async (c) => {
    const received = requestTarget(c.req.url);
    let image: ResolvedImage;
    let rateHeaders: Record<string, string> | undefined;

    let signer: string | undefined;
    let identity: string | undefined;
    if (carriesSignature(received)) {
      let known = access.knownSignedPath(received);
      if (known === undefined) {
        const verified = await access.verifySignature(received);
        if (!verified.ok) return verified.response;
        known = verified;
      }
      signer = known.signer;
      const pending = resolver.resolve(known.path);
      const resolved = pending instanceof Promise ? await pending : pending;
      if (resolved.kind === 'invalid') return parseFailure(resolved.failure, resolved.instance);
      // Signed URLs are minted canonical; one signed otherwise is served as signed, since a redirect
      // would drop its signature.
      image = resolved.kind === 'image' ? resolved : await resolver.keyed(resolved.request);
    } else {
      const caller = await access.identify(c);
      if (!caller.ok) return caller.response;
      const pending = resolver.resolve(received);
      const resolved = pending instanceof Promise ? await pending : pending;
      if (resolved.kind === 'not-canonical') return redirect(c, resolved);
      identity = keyIdentity(keyId(caller.key.hash));
      const charged = await access.charge(identity, config.rateLimit, 1, resolved.kind === 'invalid' ? NO_IMAGE : imageLine(resolved.request, 1, 0));
      if (!charged.ok) return charged.response;
      if (resolved.kind === 'invalid') return parseFailure(resolved.failure, resolved.instance, charged.headers);
      image = resolved;
      rateHeaders = charged.headers;
    }

    // An image key names one image forever, so a client holding the ETag holds the bytes.
    if (etagMatches(c.req.header('if-none-match'), image.etag)) {
      return new Response(null, { status: 304, headers: Object.assign(bakedHeaders(c), rateHeaders, { etag: image.etag, 'cache-control': IMMUTABLE_CACHE_CONTROL }) });
    }
    // A miss is a generation: it costs its price (the signer's, or the key's beyond the one token
    // the request paid), given back if the generation fails.
    let refund: (() => Promise<void>) | undefined;
    const admit = async (): Promise<Response | undefined> => {
      if (signer !== undefined) {
        const admission = await ctx.admitSignedGeneration(c, signer, image.request);
        if (!admission.ok) return admission.response;
        refund = admission.refund;
        return undefined;
      }
      const admission = await chargeGeneration(identity!, image);
      if (!admission.ok) return admission.response;
      refund = admission.refund;
      rateHeaders = admission.headers; // what is left after the generation's price
      return undefined;
    };
    const result = await lookup(image, ctx.defer(c), admit);
    if (result.ok) return imageResponse(c, image, result, Object.assign(bakedHeaders(c), rateHeaders));
    if (refund) await refund();
    return 'refused' in result ? result.refused : lookupFailure(result, rateHeaders);
  });
}
