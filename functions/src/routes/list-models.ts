// GET /v1/models: every served model with its classes, limits and defaults, from its manifest.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { allowedSizes, IMAGE_FORMATS } from '@imf/contract';
import { documented } from '../openapi/document.js';
import type { RouteContext } from './context.js';

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

export const listModels = createRoute({
  method: 'get',
  path: '/v1/models',
  summary: 'The models served, with their classes, limits and defaults',
  responses: { 200: { description: 'Models', content: { 'application/json': { schema: z.object({ models: z.array(modelSchema) }) } } } },
});

export function registerListModels(app: OpenAPIHono, { registry }: RouteContext): void {
  // The list is fixed for the deployment: build it once.
  const models: z.infer<typeof modelSchema>[] = Object.values(registry).map((m) => ({
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
  }));
  documented(app, listModels, (c) => c.json({ models }));
}
