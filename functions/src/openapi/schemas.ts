// The public API's routes as OpenAPI, from the same zod schemas the handlers validate with
// (contract/canonical.ts). The document at /openapi.json and the docs page are generated from it.
import { createRoute, z } from '@hono/zod-openapi';
import { imageBodySchema, imageQuerySchema, IMAGE_FORMATS, MAX_IMAGES_PER_REQUEST } from '@imf/contract';

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ parameter: z.string(), rule: z.string(), detail: z.string() }))
      .optional()
      .describe('The parameters at fault and the rule each broke'),
  })
  .openapi('Problem');

const problemContent = { 'application/problem+json': { schema: problemSchema } };
const problems = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { description: PROBLEM_TEXT[code] ?? 'Problem', content: problemContent }]));
const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid parameters (each named, with its rule)',
  401: 'Missing or invalid API key',
  403: 'Tampered, expired or unknown-kid signed URL',
  404: 'Unknown model',
  413: 'JSON body over 16 KB',
  415: 'Body is not application/json',
  429: 'Rate limited (Retry-After)',
  502: 'A GPU worker rejected the request',
  503: 'The GPU pool is unavailable (Retry-After)',
  504: 'The GPU pool did not answer in time (Retry-After)',
};

const modelSchema = z
  .object({
    id: z.string(),
    version: z.string(),
    resolution: z.number().int().describe('Native width and height in pixels'),
    channels: z.number().int(),
    classes: z.array(z.string()),
    null_class: z.number().int().describe('Index of the unconditional class (also "null")'),
    guidance: z.object({ min: z.number(), max: z.number(), default: z.number() }),
    interval: z.tuple([z.number(), z.number()]).describe('Default guidance interval [t_min, t_max]'),
    nfe: z.number().int(),
    sizes: z.array(z.number().int()).describe('Allowed output sizes'),
    formats: z.array(z.enum(IMAGE_FORMATS)),
  })
  .openapi('Model');

// A fresh schema from the contract's shape: contract schemas may be created before
// @hono/zod-openapi extends zod, so they need not carry .openapi() themselves.
export const bodySchema = z.object(imageBodySchema.shape).strict().openapi('ImageRequest', {
  description: `One image request. Defaults come from the model; n (≤ ${MAX_IMAGES_PER_REQUEST}) images get consecutive seeds.`,
  example: { model: 'imf-mnist', class: 3, guidance: 3, interval: [0, 1], seed: 42, format: 'png', size: 112 },
});

const jsonBody = { required: true, content: { 'application/json': { schema: bodySchema } } };
const bearer = [{ bearerAuth: [] }];

const imageHeaders = {
  ETag: { schema: { type: 'string' as const }, description: 'Strong ETag: the image key' },
  'Cache-Control': { schema: { type: 'string' as const }, description: 'public, max-age=31536000, immutable' },
  'X-Image-Tier': { schema: { type: 'string' as const, enum: ['edge-cache', 'storage', 'generated'] }, description: 'Which tier answered' },
};

export const listModels = createRoute({
  method: 'get',
  path: '/v1/models',
  summary: 'The models served, with their classes, limits and defaults',
  responses: { 200: { description: 'Models', content: { 'application/json': { schema: z.object({ models: z.array(modelSchema) }) } } } },
});

export const getImage = createRoute({
  method: 'get',
  path: '/v1/images/{model}/{file}',
  summary: 'The canonical image URL',
  description:
    'Authenticated by a bearer key or a signature (exp, kid, sig from POST /v1/sign). A valid but non-canonical request ' +
    '(class name, defaults left out, no seed) is redirected (302) to its canonical URL.',
  security: [...bearer, {}],
  request: {
    params: z.object({
      model: z.string().openapi({ param: { name: 'model', in: 'path' }, example: 'imf-mnist' }),
      file: z.string().openapi({ param: { name: 'file', in: 'path' }, description: '<class index or name>.<png|webp>', example: '3.png' }),
    }),
    query: imageQuerySchema.extend({
      exp: z.string().optional().describe('Signed URLs: expiry, Unix seconds'),
      kid: z.string().optional().describe('Signed URLs: signing key id'),
      sig: z.string().optional().describe('Signed URLs: HMAC-SHA256, base64url'),
    }),
    headers: z.object({ 'if-none-match': z.string().optional() }),
  },
  responses: {
    200: {
      description: 'The image',
      headers: imageHeaders,
      content: { 'image/png': { schema: z.string().openapi({ format: 'binary' }) }, 'image/webp': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    302: { description: 'Redirect to the canonical URL', headers: { Location: { schema: { type: 'string' } } } },
    304: { description: 'Not modified (If-None-Match matched the ETag)' },
    ...problems(400, 401, 403, 404, 429, 502, 503, 504),
  },
});

const imageEntry = z
  .object({
    url: z.string().describe('Canonical image URL (needs the API key)'),
    signed_url: z.string().describe('Signed URL anyone may fetch until expires'),
    expires: z.number().int(),
    seed: z.number().int(),
    key: z.string().describe('Image key (also the ETag)'),
    tier: z.enum(['edge-cache', 'storage', 'generated']),
  })
  .openapi('GeneratedImage');

export const createImages = createRoute({
  method: 'post',
  path: '/v1/images',
  summary: 'Generate up to 16 images synchronously',
  security: bearer,
  request: { body: jsonBody },
  responses: {
    200: { description: 'The images, by canonical URL', content: { 'application/json': { schema: z.object({ model: z.string(), version: z.string(), images: z.array(imageEntry) }) } } },
    ...problems(400, 401, 404, 413, 415, 429, 502, 503, 504),
  },
});

export const signImage = createRoute({
  method: 'post',
  path: '/v1/sign',
  summary: 'Mint a signed URL for one image',
  security: bearer,
  request: { body: jsonBody },
  responses: {
    200: { description: 'Signed URL', content: { 'application/json': { schema: z.object({ url: z.string(), expires: z.number().int().describe('Unix seconds') }) } } },
    ...problems(400, 401, 404, 413, 415, 429),
  },
});

export const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const readiness = z.object({
  status: z.enum(['ready', 'unready']),
  pool: z.object({ ready: z.number().int(), total: z.number().int() }),
  storage: z.enum(['ready', 'unreachable', 'not-configured']),
});

export const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: at least one GPU worker ready and storage reachable',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: readiness } } },
    503: { description: 'Not ready', content: { 'application/json': { schema: readiness } } },
  },
});

/** Every documented route; the test checks these against the router. */
export const documentedRoutes = [listModels, getImage, createImages, signImage, healthz, readyz];
