// The schemas the documented routes share: problem details, the image request body, bearer auth.
// Built with @hono/zod-openapi's zod so they carry OpenAPI names; the contract's own schemas are the
// source of their fields.
import { z } from '@hono/zod-openapi';
import { DEFAULT_QUALITY, imageBodySchema, MAX_IMAGES_PER_REQUEST, QUALITY_MAX, QUALITY_MIN } from '@imf/contract';
import type { Tier } from '../images/tiers.js';

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
const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid parameters (each named, with its rule)',
  401: 'Missing or invalid API key',
  403: 'Tampered, expired or unknown-kid signed URL',
  404: 'Unknown model',
  413: 'JSON body over 16 KB',
  415: 'Body is not application/json',
  429: 'Rate limited (Retry-After)',
  502: 'A GPU worker rejected the request, or answered with another image than the one asked for',
  503: 'The GPU pool is unavailable (Retry-After): every worker is busy or down, or, during a deploy, none serves this model version yet',
  504: 'The GPU pool did not answer in time (Retry-After)',
};

/** The problem responses a route documents, by status. */
export const problems = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { description: PROBLEM_TEXT[code] ?? 'Problem', content: problemContent }]));

// A fresh schema from the contract's shape: contract schemas may be created before
// @hono/zod-openapi extends zod, so they need not carry .openapi() themselves.
/** What `quality` means, in the body and in the image URL's query alike. */
export const QUALITY_DESCRIPTION =
  `WebP and JPEG only: encoder quality ${QUALITY_MIN}..${QUALITY_MAX}, default ${DEFAULT_QUALITY.webp} for WebP and ${DEFAULT_QUALITY.jpeg} for JPEG; ` +
  'part of the image key (the canonical URL of a lossy image carries it). PNG is lossless: a quality with it is a 400.';

const bodySchema = z.object({ ...imageBodySchema.shape, quality: z.number().int().optional().describe(QUALITY_DESCRIPTION) }).strict().openapi('ImageRequest', {
  description: `One image request. Defaults come from the model; n (≤ ${MAX_IMAGES_PER_REQUEST}) images get consecutive seeds.`,
  example: { model: 'imf-mnist', class: 3, guidance: 3, interval: [0, 1], seed: 42, format: 'png', size: 112 },
});

/** A request body of one ImageRequest. */
export const imageRequestBody = { required: true, content: { 'application/json': { schema: bodySchema } } };

/** Routes that take an API key. */
export const bearer = [{ bearerAuth: [] }];

export const TIERS = ['edge-cache', 'storage', 'generated'] as const satisfies readonly Tier[];
