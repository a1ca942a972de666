// The part of a shipped model's manifest (models/<id>/model.json) that the edge and the worker's
// request contract read: names, limits and defaults. The manifest is the only source of these.
import { z } from 'zod';

export const modelManifestSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  version: z.string().min(1),
  nfe: z.number().int().positive(),
  image: z.object({
    channels: z.number().int().positive(),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
  }),
  classes: z.array(z.string().min(1)).min(1),
  null_class: z.number().int().nonnegative(),
  guidance: z.object({ min: z.number(), max: z.number(), default: z.number() }),
  interval: z.object({ default: z.tuple([z.number(), z.number()]) }),
});

/** The manifest fields the edge needs; extra fields of model.json are ignored. */
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** Models by id: what the edge serves. */
export type ModelRegistry = Readonly<Record<string, ModelManifest>>;

/**
 * The model with this id, or undefined. Own properties only: a caller-chosen id such as
 * "constructor" or "__proto__" must not find Object.prototype's members (that was a 500).
 */
export function findModel(registry: ModelRegistry, id: string): ModelManifest | undefined {
  return Object.hasOwn(registry, id) ? registry[id] : undefined;
}

/**
 * Output sizes a model may be served at: the native width times 1, 2, 4 or 8 (nearest-neighbour
 * upscaling by the worker). Integer factors keep pixels square and the bytes deterministic.
 */
export function allowedSizes(model: ModelManifest): number[] {
  return [1, 2, 4, 8].map((factor) => model.image.width * factor);
}

/** The default size is the model's native resolution. */
export function defaultSize(model: ModelManifest): number {
  return model.image.width;
}
