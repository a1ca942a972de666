// The model manifest (models/<id>/model.json): written by the Python exporters (a trained model's
// export and an official checkpoint's import write it alike), read by the edge (what a request may
// ask of the model) and by the worker (its graph, files and noise). This zod schema is its one
// definition: the TypeScript types derive from it, and manifest.schema.json, the JSON Schema the
// exporters' tests validate against, is written from it (scripts/write-manifest-schema.ts).
// Every model is one ONNX graph from noise to 8-bit pixels: the whole 1- or 2-NFE sampler and, for
// a latent model, the VAE decoder with its latent de-normalisation inside.
import { z } from 'zod';

/** The manifest format every served model has. */
export const MANIFEST_FORMAT = 'imf-model/3';

/**
 * The sampler graph's inputs (PRODUCT.md, "The model contract") in order, each with its element
 * type. Noise is [batch, C, H, W] of the noise's shape (a latent model's latent shape); the others are [batch].
 */
export const SAMPLER_INPUTS = { noise: 'float32', class: 'int64', guidance: 'float32', t_min: 'float32', t_max: 'float32' } as const;
/** The graph's one output: 8-bit pixels, [batch, H, W, C] (NHWC). The graph rounds; the worker only encodes. */
export const SAMPLER_OUTPUTS = { image: 'uint8' } as const;
export type SamplerInputName = keyof typeof SAMPLER_INPUTS;
export type SamplerOutputName = keyof typeof SAMPLER_OUTPUTS;

/** The batch dimension of every graph input and output is dynamic, and named so. */
const BATCH = 'batch';

const positiveInt = z.number().int().positive();
const dimension = z.union([positiveInt, z.literal(BATCH)]);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

function tensorSpec(name: string, dtype: string) {
  return z.strictObject({
    name: z.literal(name),
    dtype: z.literal(dtype),
    shape: z.array(dimension).min(1),
    meaning: z.string().min(1).describe('what the tensor holds, for a reader of the manifest'),
    layout: z.enum(['NCHW', 'NHWC']).optional().describe("an image tensor's axis order"),
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

const noiseSchema = z.strictObject({
  generator: z.string().min(1).describe('name and version of the seed → noise generator (models/noise/SPEC.md)'),
  seed: z.literal('uint32'),
  shape: z.tuple([positiveInt, positiveInt, positiveInt]),
  order: z.literal('CHW'),
  spec: z.string().min(1),
  test_vectors: z.string().min(1),
});

/** One file the graph needs, inside the model folder. */
const modelFileSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a plain file name inside the model folder').refine((n) => n !== '.' && n !== '..', 'must be a file name'),
  sha256: sha256Hex,
  bytes: z.number().int().nonnegative(),
});

/** How long one image took where it was measured (at export or import), for deadlines and capacity. */
const timingSchema = z.strictObject({
  seconds: z.number().nonnegative(),
  batch: positiveInt,
  provider: z.string().min(1),
  threads: z.number().int().nonnegative().optional(),
  machine: z.string().optional(),
  measured: z.string().optional(),
});

/** 8-bit pixels against others: the largest difference, how many values differ, and how much on average. */
const pixelDifferenceSchema = z.strictObject({
  max: z.number().int().min(0).max(255),
  differing: z.number().int().nonnegative(),
  values: positiveInt,
  share: z.number().min(0).max(1),
  mean_abs: z.number().min(0).max(255).describe('mean absolute difference, in levels'),
  psnr_db: z.number().optional().describe('absent when the pixels are equal'),
  requests: positiveInt,
  provider: z.string().min(1).describe('the onnxruntime provider the graph ran on'),
  measured: z.string().optional(),
});

/**
 * What the graph computes in. The inputs and the output never change with it (float32 and int64 in,
 * uint8 out): a float16 graph casts inside, so the worker serves it as any other; its pixels differ
 * from the float32 graph's, by what `against_float32` says.
 */
const precisionSchema = z.strictObject({
  compute: z.enum(['float32', 'float16']),
  float32_parts: z.array(z.string().min(1)).optional().describe('what a float16 graph keeps in float32'),
  against_float32: pixelDifferenceSchema.optional().describe("a float16 graph's pixels on the reference requests against the float32 graph's"),
  tolerance: z.strictObject({ mean_abs_max: z.number().nonnegative(), psnr_db_min: z.number() }).optional().describe('the largest difference the import accepted'),
});

const manifestObject = z.strictObject({
  schema: z.literal(MANIFEST_FORMAT),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
  version: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits').describe('the first 16 hex digits of content_sha256: new weights are a new version'),
  content_sha256: sha256Hex.describe('SHA-256 of every file, concatenated in the order listed (the graph first)'),
  method: z.string().min(1).optional(),
  nfe: positiveInt.describe('network evaluations per image, all inside the graph'),
  image: z.strictObject({ channels: z.union([z.literal(1), z.literal(3)]), height: positiveInt, width: positiveInt, color: z.enum(['rgb', 'grayscale']) }).describe('the pixels the graph gives'),
  graph: z.string().regex(/^[A-Za-z0-9._-]+\.onnx$/, 'must be a plain .onnx file name inside the model folder'),
  files: z.array(modelFileSchema).min(1).describe('every file the graph needs, the graph first (then its external data)'),
  inputs: tensorList('inputs', SAMPLER_INPUTS),
  outputs: tensorList('outputs', SAMPLER_OUTPUTS),
  parameters: z.number().int().nonnegative().optional().describe('parameters the graph computes with'),
  seconds_per_image: timingSchema.optional(),
  precision: precisionSchema.optional().describe('float32 where absent'),
  classes: z.array(z.string().min(1)).min(1),
  null_class: z.number().int().nonnegative().describe("the index that selects the unconditional class; never a class's own index"),
  guidance: z.strictObject({ min: z.number(), max: z.number(), default: z.number() }),
  interval: z.strictObject({ default: z.tuple([z.number(), z.number()]) }),
  noise: noiseSchema,
  reference: z.string().min(1).optional().describe('the reference pixels file (reference.json) beside the manifest'),
  defaults_source: z.string().optional().describe('where the default guidance and interval come from'),
  samples: z.record(z.string(), z.unknown()).optional().describe('the sample grid (samples.png) and what it shows'),
  parity: z.record(z.string(), z.unknown()).optional().describe("the exporter's ONNX-against-PyTorch checks"),
  training: z.strictObject({ command: z.string(), steps: z.number().int().nonnegative(), config: z.record(z.string(), z.unknown()) }).optional(),
  source: z.record(z.string(), z.unknown()).optional().describe('where imported weights came from: checkpoint, VAE, command'),
  published: z.record(z.string(), z.unknown()).optional().describe("published figures for this model size (the paper's, not measured here)"),
  evaluation: z.record(z.string(), z.unknown()).optional().describe("the evaluator's numbers (models/imf/evaluation/), as the model card shows them"),
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

type Manifest = z.infer<typeof manifestObject>;

/** Shapes (noise in as the noise is, pixels out as the image is), files and version agree. */
function checkGraph(m: Manifest, ctx: z.RefinementCtx): void {
  if (m.version !== m.content_sha256.slice(0, 16)) {
    ctx.addIssue({ code: 'custom', path: ['version'], message: `"${m.version}" is not the first 16 hex digits of content_sha256 (${m.content_sha256.slice(0, 16)})` });
  }
  const expectShape = (path: PropertyKey[], spec: TensorSpec, wanted: readonly (number | string)[]) => {
    if (spec.shape.join(',') !== wanted.join(',')) ctx.addIssue({ code: 'custom', path, message: `"${spec.name}" has shape [${spec.shape.join(',')}], expected [${wanted.join(',')}]` });
  };
  (m.inputs as readonly TensorSpec[]).forEach((spec, index) => expectShape(['inputs', index, 'shape'], spec, spec.name === 'noise' ? [BATCH, ...m.noise.shape] : [BATCH]));
  const { channels, height, width } = m.image;
  const image = (m.outputs as readonly TensorSpec[])[0]!;
  expectShape(['outputs', 0, 'shape'], image, [BATCH, height, width, channels]);
  if (image.layout !== 'NHWC') ctx.addIssue({ code: 'custom', path: ['outputs', 0, 'layout'], message: 'the image is NHWC' });
  if ((channels === 3) !== (m.image.color === 'rgb')) ctx.addIssue({ code: 'custom', path: ['image', 'color'], message: `${m.image.color} does not have ${channels} channel(s)` });
  if (m.precision && m.precision.compute !== 'float32' && !m.precision.against_float32) {
    ctx.addIssue({ code: 'custom', path: ['precision', 'against_float32'], message: `a ${m.precision.compute} graph states how far its pixels are from float32's` });
  }
  if (m.files[0]?.name !== m.graph) ctx.addIssue({ code: 'custom', path: ['files', 0], message: `the files start with the graph (${m.graph})` });
  const names = m.files.map((f) => f.name);
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) ctx.addIssue({ code: 'custom', path: ['files'], message: `a file is listed twice: ${repeated.join(', ')}` });
}

/** The manifest as a whole: fields, then the rules between them (shapes, version, limits). */
export const modelManifestSchema = manifestObject.superRefine((m, ctx) => {
  checkRequestLimits(m, ctx);
  checkGraph(m, ctx);
});

export type ModelManifest = z.infer<typeof modelManifestSchema>;

/**
 * The manifest fields a request is checked against and defaulted from: what the edge bundles. Also
 * the model's expected seconds per image (batch 1, where the manifest measured it),
 * from which the edge and the worker size their deadlines.
 */
export const modelSummarySchema = z
  .strictObject({
    id: manifestObject.shape.id,
    version: manifestObject.shape.version,
    nfe: manifestObject.shape.nfe,
    image: z.strictObject({ channels: positiveInt, height: positiveInt, width: positiveInt }),
    classes: manifestObject.shape.classes,
    null_class: manifestObject.shape.null_class,
    guidance: manifestObject.shape.guidance,
    interval: manifestObject.shape.interval,
    seconds_per_image: z.number().nonnegative().optional(),
  })
  .superRefine(checkRequestLimits);

export type ModelSummary = z.infer<typeof modelSummarySchema>;

/** The summary part of a whole manifest. */
export function summarize(manifest: ModelManifest): ModelSummary {
  const seconds = manifest.seconds_per_image?.seconds;
  return {
    id: manifest.id,
    version: manifest.version,
    nfe: manifest.nfe,
    image: { channels: manifest.image.channels, height: manifest.image.height, width: manifest.image.width },
    classes: manifest.classes,
    null_class: manifest.null_class,
    guidance: manifest.guidance,
    interval: manifest.interval,
    ...(seconds === undefined ? {} : { seconds_per_image: seconds }),
  };
}

/**
 * How many of a model's images at batch 1 a request may wait for beyond the base deadline: its own
 * and a few batches ahead of it. The edge's pool deadline and the worker's request timeout and
 * admission bound each add this to their base, so a slow model (a VAE decode on a CPU takes seconds)
 * gets time in proportion and a fast one keeps the base; the edge's deadline stays above the worker's.
 */
export const DEADLINE_IMAGES = 4;

/** Milliseconds a request for `model` may take on top of a base deadline (0 when its time is not measured). */
export function modelTimeAllowanceMs(model: Pick<ModelSummary, 'seconds_per_image'>): number {
  return Math.ceil((model.seconds_per_image ?? 0) * 1000 * DEADLINE_IMAGES);
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

/** Smallest and largest output edge a resize may give (the native size is always allowed). */
export const MIN_RESIZED = 32;
export const MAX_RESIZED = 1024;

/**
 * Output sizes a model may be served at: the native width times 1/4, 1/2, 1, 2, 4 or 8 where that
 * is a whole number from MIN_RESIZED to MAX_RESIZED pixels (the native width always). Upscaling is
 * nearest-neighbour by an integer factor (exact); downscaling averages whole blocks of pixels, so
 * both keep pixels square and the bytes deterministic. A 28-pixel model: 28, 56, 112, 224; a
 * 256-pixel one: 64, 128, 256, 512, 1024.
 */
export function allowedSizes(model: Pick<ModelSummary, 'image'>): number[] {
  const native = model.image.width;
  return [0.25, 0.5, 1, 2, 4, 8]
    .map((factor) => native * factor)
    .filter((size) => size === native || (Number.isInteger(size) && size >= MIN_RESIZED && size <= MAX_RESIZED));
}

/** The default size is the model's native resolution. */
export function defaultSize(model: Pick<ModelSummary, 'image'>): number {
  return model.image.width;
}

/** The manifest schema as JSON Schema (draft 2020-12): the file exporters validate against. */
export function manifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(manifestObject.meta({ title: 'iMF model manifest', description: `models/<id>/model.json, format ${MANIFEST_FORMAT}` }), {
    target: 'draft-2020-12',
    io: 'input',
  }) as Record<string, unknown>;
}
