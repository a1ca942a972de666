// The model manifest (models/<id>/model.json): written by the Python exporters, read by the edge
// (what a request may ask of the model) and by the worker (its graph, file and noise). This zod
// schema is its one definition: the TypeScript types derive from it, and manifest.schema.json, the
// JSON Schema the exporters' tests validate against, is written from it (scripts/write-manifest-schema.ts).
import { z } from 'zod';

/** The manifest format this schema describes; a manifest names it in its `schema` field. */
export const MANIFEST_FORMAT = 'imf-model/1';

/**
 * The one-step sampler every model graph is (PRODUCT.md, "The model contract"): its inputs in
 * order, each with its element type. Noise is [batch, C, H, W]; the others are [batch].
 */
export const SAMPLER_INPUTS = { noise: 'float32', class: 'int64', guidance: 'float32', t_min: 'float32', t_max: 'float32' } as const;
/** The sampler's one output: the image, [batch, C, H, W] in [-1, 1]. */
export const SAMPLER_OUTPUTS = { image: 'float32' } as const;
export type SamplerInputName = keyof typeof SAMPLER_INPUTS;
export type SamplerOutputName = keyof typeof SAMPLER_OUTPUTS;

/** The batch dimension of every graph input and output is dynamic, and named so. */
const BATCH = 'batch';

const positiveInt = z.number().int().positive();
const dimension = z.union([positiveInt, z.literal(BATCH)]);

function tensorSpec(name: string, dtype: string) {
  return z.strictObject({
    name: z.literal(name),
    dtype: z.literal(dtype),
    shape: z.array(dimension).min(1),
    meaning: z.string().min(1).describe('what the tensor holds, for a reader of the manifest'),
  });
}

type TensorSpecSchema = ReturnType<typeof tensorSpec>;
/** One graph input or output as the manifest names it. */
export type TensorSpec = z.infer<TensorSpecSchema>;

/** One tensor spec per entry of `specs`, in that order and no others. */
function tensorList(kind: string, specs: Readonly<Record<string, string>>) {
  const names = Object.keys(specs);
  const items = Object.entries(specs).map(([name, dtype]) => tensorSpec(name, dtype)) as [TensorSpecSchema, ...TensorSpecSchema[]];
  return z.tuple(items, { error: () => `the sampler's ${kind} are ${names.join(', ')}, in this order` });
}

const imageSchema = z.strictObject({
  channels: positiveInt,
  height: positiveInt,
  width: positiveInt,
  layout: z.literal('NCHW'),
  range: z.tuple([z.number(), z.number()]).describe("the value range of the graph's image output"),
  to_uint8: z.string().min(1).describe('how floats become 8-bit pixels, as a formula for a reader (the worker implements it)'),
});

const noiseSchema = z.strictObject({
  generator: z.string().min(1).describe('name and version of the seed → noise generator (models/noise/SPEC.md)'),
  seed: z.literal('uint32'),
  shape: z.tuple([positiveInt, positiveInt, positiveInt]),
  order: z.literal('CHW'),
  spec: z.string().min(1),
  test_vectors: z.string().min(1),
});

const manifestObject = z.strictObject({
  schema: z.literal(MANIFEST_FORMAT),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
  version: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits').describe('the first 16 hex digits of sha256: a new graph is a new version'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits').describe('SHA-256 of file'),
  file: z.string().regex(/^[A-Za-z0-9._-]+\.onnx$/, 'must be a plain .onnx file name inside the model folder'),
  method: z.string().min(1).optional(),
  nfe: positiveInt.describe('network evaluations per image'),
  image: imageSchema,
  inputs: tensorList('inputs', SAMPLER_INPUTS),
  outputs: tensorList('outputs', SAMPLER_OUTPUTS),
  classes: z.array(z.string().min(1)).min(1),
  null_class: z.number().int().nonnegative().describe("the index that selects the unconditional class; never a class's own index"),
  guidance: z.strictObject({ min: z.number(), max: z.number(), default: z.number() }),
  interval: z.strictObject({ default: z.tuple([z.number(), z.number()]) }),
  noise: noiseSchema,
  reference: z.string().min(1).optional().describe('the reference pixels file (reference.json) beside the manifest'),
  parity: z
    .strictObject({ batches: z.record(z.string(), z.number()), tolerance: z.number() })
    .optional()
    .describe("the export's ONNX-against-PyTorch check: worst absolute difference per batch size"),
  training: z.strictObject({ command: z.string(), steps: z.number().int().nonnegative(), config: z.record(z.string(), z.unknown()) }).optional(),
  evaluation: z.record(z.string(), z.unknown()).optional().describe("the evaluator's numbers (models/imf/evaluate.py), as the model card shows them"),
});

type Summary = Pick<z.infer<typeof manifestObject>, 'null_class' | 'classes' | 'guidance' | 'interval'>;

/** The rules between a request's limits and defaults that the field types alone do not say. */
function checkRequestLimits(m: Summary, ctx: z.RefinementCtx): void {
  if (m.null_class < m.classes.length) {
    ctx.addIssue({ code: 'custom', path: ['null_class'], message: `${m.null_class} collides with a class index (there are ${m.classes.length} classes)` });
  }
  const g = m.guidance;
  if (!(g.min <= g.default && g.default <= g.max)) ctx.addIssue({ code: 'custom', path: ['guidance', 'default'], message: `${g.default} is outside [${g.min}, ${g.max}]` });
  const [t0, t1] = m.interval.default;
  if (!(t0 >= 0 && t0 < t1 && t1 <= 1)) ctx.addIssue({ code: 'custom', path: ['interval', 'default'], message: `[${t0}, ${t1}] is not 0 ≤ t_min < t_max ≤ 1` });
}

/** The manifest as a whole: fields, then the rules between them (shapes, version, limits). */
export const modelManifestSchema = manifestObject.superRefine((m, ctx) => {
  checkRequestLimits(m, ctx);
  if (m.version !== m.sha256.slice(0, 16)) {
    ctx.addIssue({ code: 'custom', path: ['version'], message: `"${m.version}" is not the first 16 hex digits of sha256 (${m.sha256.slice(0, 16)})` });
  }
  const chw = [m.image.channels, m.image.height, m.image.width];
  if (m.noise.shape.join(',') !== chw.join(',')) {
    ctx.addIssue({ code: 'custom', path: ['noise', 'shape'], message: `${m.noise.shape.join('x')} differs from the image shape ${chw.join('x')}` });
  }
  // Images (noise in, image out) are [batch, C, H, W]; the per-image scalars are [batch].
  const imageShape = [BATCH, ...chw].join(',');
  const checkShapes = (kind: 'inputs' | 'outputs', list: readonly TensorSpec[]) =>
    list.forEach((spec, index) => {
      const wanted = spec.name === 'noise' || spec.name === 'image' ? imageShape : BATCH;
      if (spec.shape.join(',') !== wanted) ctx.addIssue({ code: 'custom', path: [kind, index, 'shape'], message: `"${spec.name}" has shape [${spec.shape.join(',')}], expected [${wanted}]` });
    });
  checkShapes('inputs', m.inputs);
  checkShapes('outputs', m.outputs);
});

export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** The manifest fields a request is checked against and defaulted from: what the edge bundles. */
export const modelSummarySchema = manifestObject
  .pick({ id: true, version: true, nfe: true, image: true, classes: true, null_class: true, guidance: true, interval: true })
  .superRefine(checkRequestLimits);

export type ModelSummary = z.infer<typeof modelSummarySchema>;

/** The summary part of a whole manifest. */
export function summarize(manifest: ModelManifest): ModelSummary {
  const summary: Record<string, unknown> = {};
  for (const field of Object.keys(modelSummarySchema.shape)) summary[field] = manifest[field as keyof ModelManifest];
  return summary as ModelSummary;
}

/** Models by id: what the edge serves, or what a worker does. */
export type ModelRegistry = Readonly<Record<string, ModelSummary>>;

/**
 * The model with this id, or undefined. Own properties only: a caller-chosen id such as
 * "constructor" or "__proto__" must not find Object.prototype's members.
 */
export function findModel<M extends ModelSummary>(registry: Readonly<Record<string, M>>, id: string): M | undefined {
  return Object.hasOwn(registry, id) ? registry[id] : undefined;
}

/**
 * Output sizes a model may be served at: the native width times 1, 2, 4 or 8 (nearest-neighbour
 * upscaling by the worker). Integer factors keep pixels square and the bytes deterministic.
 */
export function allowedSizes(model: ModelSummary): number[] {
  return [1, 2, 4, 8].map((factor) => model.image.width * factor);
}

/** The default size is the model's native resolution. */
export function defaultSize(model: ModelSummary): number {
  return model.image.width;
}

/** The manifest schema as JSON Schema (draft 2020-12): the file exporters validate against. */
export function manifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(manifestObject.meta({ title: 'iMF model manifest', description: `models/<id>/model.json, format ${MANIFEST_FORMAT}` }), {
    target: 'draft-2020-12',
    io: 'input',
  }) as Record<string, unknown>;
}
