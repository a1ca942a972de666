// The model manifest (models/<id>/model.json): written by the Python exporters, read by the edge
// (what a request may ask of the model) and by the worker (its graphs, files and noise). This zod
// schema is its one definition: the TypeScript types derive from it, and manifest.schema.json, the
// JSON Schema the exporters' tests validate against, is written from it (scripts/write-manifest-schema.ts).
// Two formats, told apart by their `schema` field: imf-model/1, one graph (noise → image), and
// imf-model/2, a generator stage plus an optional decoder stage, each with every file it needs.
import { z } from 'zod';

/** The one-graph manifest format (pixel models such as imf-mnist). */
export const MANIFEST_FORMAT = 'imf-model/1';
/** The staged manifest format: a generator and optionally a decoder (latent models). */
export const STAGED_MANIFEST_FORMAT = 'imf-model/2';

/**
 * The one-step sampler every model graph is (PRODUCT.md, "The model contract"): its inputs in
 * order, each with its element type. Noise is [batch, C, H, W]; the others are [batch].
 */
export const SAMPLER_INPUTS = { noise: 'float32', class: 'int64', guidance: 'float32', t_min: 'float32', t_max: 'float32' } as const;
/** The sampler's one output: the image, [batch, C, H, W] in [-1, 1]. */
export const SAMPLER_OUTPUTS = { image: 'float32' } as const;
/** A latent model's generator output: the latent, [batch, C, H, W] (the noise's shape), unbounded. */
export const LATENT_OUTPUTS = { latent: 'float32' } as const;
/** The decoder stage: the generator's latent in … */
export const DECODER_INPUTS = { latent: 'float32' } as const;
/** … and 8-bit pixels out, [batch, H, W, C] (NHWC): the decoder rounds, the worker only encodes. */
export const DECODER_OUTPUTS = { image: 'uint8' } as const;
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
    layout: z.enum(['NCHW', 'NHWC']).optional().describe("an image tensor's axis order, where it is not NCHW"),
  });
}

type TensorSpecSchema = ReturnType<typeof tensorSpec>;
/** One graph input or output as the manifest names it. */
export type TensorSpec = z.infer<TensorSpecSchema>;

/** One tensor spec per entry of `specs`, in that order and no others. */
function tensorList(kind: string, specs: Readonly<Record<string, string>>, graph = 'sampler') {
  const names = Object.keys(specs);
  const items = Object.entries(specs).map(([name, dtype]) => tensorSpec(name, dtype)) as [TensorSpecSchema, ...TensorSpecSchema[]];
  return z.tuple(items, { error: () => `the ${graph}'s ${kind} are ${names.join(', ')}, in this order` });
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

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** One file a stage needs, inside the model folder. */
const stageFileSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a plain file name inside the model folder').refine((n) => n !== '.' && n !== '..', 'must be a file name'),
  sha256: sha256Hex,
  bytes: z.number().int().nonnegative(),
});

/** How long a stage took per image where it was measured (at import), for deadlines and capacity. */
const stageTimingSchema = z.strictObject({
  seconds: z.number().nonnegative(),
  batch: positiveInt,
  provider: z.string().min(1),
  threads: z.number().int().nonnegative().optional(),
  machine: z.string().optional(),
  measured: z.string().optional(),
});

/** What every stage has: its graph, every file it needs, its size and measured time. */
const stageFields = {
  graph: z.string().regex(/^[A-Za-z0-9._-]+\.onnx$/, 'must be a plain .onnx file name inside the model folder'),
  files: z.array(stageFileSchema).min(1).describe('every file the stage needs, its graph first (then its external data)'),
  parameters: z.number().int().nonnegative().optional(),
  seconds_per_image: stageTimingSchema.optional(),
};

const generatorStageSchema = z.strictObject({
  ...stageFields,
  inputs: tensorList('inputs', SAMPLER_INPUTS, 'generator'),
  outputs: z.union([tensorList('outputs', LATENT_OUTPUTS, 'generator'), tensorList('outputs', SAMPLER_OUTPUTS, 'generator')]),
  nfe: positiveInt.optional(),
});

const decoderStageSchema = z.strictObject({
  ...stageFields,
  inputs: tensorList('inputs', DECODER_INPUTS, 'decoder'),
  outputs: tensorList('outputs', DECODER_OUTPUTS, 'decoder'),
  latent_denormalization: z.strictObject({ mean: z.array(z.number()), std: z.array(z.number()) }).optional(),
});

const stagedManifestObject = z.strictObject({
  schema: z.literal(STAGED_MANIFEST_FORMAT),
  id: manifestObject.shape.id,
  version: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits').describe('the first 16 hex digits of content_sha256'),
  content_sha256: sha256Hex.describe('SHA-256 of every stage file, concatenated in the order listed (generator first)'),
  method: z.string().min(1).optional(),
  nfe: positiveInt.describe('network evaluations per image'),
  image: z.strictObject({ channels: z.union([z.literal(1), z.literal(3)]), height: positiveInt, width: positiveInt, color: z.enum(['rgb', 'grayscale']) }),
  classes: manifestObject.shape.classes,
  null_class: manifestObject.shape.null_class,
  guidance: manifestObject.shape.guidance,
  interval: manifestObject.shape.interval,
  noise: noiseSchema,
  stages: z.strictObject({ generator: generatorStageSchema, decoder: decoderStageSchema.optional() }),
  reference: manifestObject.shape.reference,
  defaults_source: z.string().optional().describe('where the default guidance and interval come from'),
  samples: z.record(z.string(), z.unknown()).optional().describe('the sample grid (samples.png) and what it shows'),
  parity: z.record(z.string(), z.unknown()).optional().describe("the import's ONNX-against-PyTorch checks"),
  source: z.record(z.string(), z.unknown()).optional().describe('where the weights came from: checkpoint, VAE, command'),
  published: z.record(z.string(), z.unknown()).optional().describe("published figures for this model size (the paper's, not measured here)"),
  evaluation: manifestObject.shape.evaluation,
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

type OneGraphManifest = z.infer<typeof manifestObject>;
type StagedManifest = z.infer<typeof stagedManifestObject>;

/** Images (noise in, image out) are [batch, C, H, W]; the per-image scalars are [batch]. */
function checkOneGraph(m: OneGraphManifest, ctx: z.RefinementCtx): void {
  if (m.version !== m.sha256.slice(0, 16)) {
    ctx.addIssue({ code: 'custom', path: ['version'], message: `"${m.version}" is not the first 16 hex digits of sha256 (${m.sha256.slice(0, 16)})` });
  }
  const chw = [m.image.channels, m.image.height, m.image.width];
  if (m.noise.shape.join(',') !== chw.join(',')) {
    ctx.addIssue({ code: 'custom', path: ['noise', 'shape'], message: `${m.noise.shape.join('x')} differs from the image shape ${chw.join('x')}` });
  }
  const imageShape = [BATCH, ...chw].join(',');
  const checkShapes = (kind: 'inputs' | 'outputs', list: readonly TensorSpec[]) =>
    list.forEach((spec, index) => {
      const wanted = spec.name === 'noise' || spec.name === 'image' ? imageShape : BATCH;
      if (spec.shape.join(',') !== wanted) ctx.addIssue({ code: 'custom', path: [kind, index, 'shape'], message: `"${spec.name}" has shape [${spec.shape.join(',')}], expected [${wanted}]` });
    });
  checkShapes('inputs', m.inputs);
  checkShapes('outputs', m.outputs);
}

/**
 * The generator takes noise of the noise's shape and gives a latent of that shape (then the decoder
 * turns it into [batch, H, W, C] bytes) or, without a decoder, the float image [batch, C, H, W].
 */
function checkStaged(m: StagedManifest, ctx: z.RefinementCtx): void {
  if (m.version !== m.content_sha256.slice(0, 16)) {
    ctx.addIssue({ code: 'custom', path: ['version'], message: `"${m.version}" is not the first 16 hex digits of content_sha256 (${m.content_sha256.slice(0, 16)})` });
  }
  const { generator, decoder } = m.stages;
  const noiseShape = [BATCH, ...m.noise.shape].join(',');
  const expectShape = (path: PropertyKey[], spec: TensorSpec, wanted: readonly (number | string)[]) => {
    if (spec.shape.join(',') !== wanted.join(',')) ctx.addIssue({ code: 'custom', path, message: `"${spec.name}" has shape [${spec.shape.join(',')}], expected [${wanted.join(',')}]` });
  };
  (generator.inputs as readonly TensorSpec[]).forEach((spec, index) => expectShape(['stages', 'generator', 'inputs', index], spec, spec.name === 'noise' ? noiseShape.split(',') : [BATCH]));
  const only = (list: readonly unknown[]) => list[0] as TensorSpec;
  const out = only(generator.outputs);
  const [latentIn, image] = decoder ? [only(decoder.inputs), only(decoder.outputs)] : [];
  const { channels, height, width } = m.image;
  if (latentIn && image) {
    if (out.name !== 'latent') ctx.addIssue({ code: 'custom', path: ['stages', 'generator', 'outputs', 0, 'name'], message: 'with a decoder, the generator gives "latent"' });
    expectShape(['stages', 'generator', 'outputs', 0], out, noiseShape.split(','));
    expectShape(['stages', 'decoder', 'inputs', 0], latentIn, noiseShape.split(','));
    expectShape(['stages', 'decoder', 'outputs', 0], image, [BATCH, height, width, channels]);
    if (image.layout !== 'NHWC') ctx.addIssue({ code: 'custom', path: ['stages', 'decoder', 'outputs', 0, 'layout'], message: 'the decoder\'s image is NHWC' });
  } else {
    if (out.name !== 'image') ctx.addIssue({ code: 'custom', path: ['stages', 'generator', 'outputs', 0, 'name'], message: 'without a decoder, the generator gives "image"' });
    expectShape(['stages', 'generator', 'outputs', 0], out, [BATCH, channels, height, width]);
    if (m.noise.shape.join(',') !== [channels, height, width].join(',')) {
      ctx.addIssue({ code: 'custom', path: ['noise', 'shape'], message: `${m.noise.shape.join('x')} differs from the image shape ${channels}x${height}x${width}` });
    }
  }
  if ((channels === 3) !== (m.image.color === 'rgb')) ctx.addIssue({ code: 'custom', path: ['image', 'color'], message: `${m.image.color} does not have ${channels} channel(s)` });
  for (const [key, stage] of Object.entries(m.stages)) {
    if (stage && stage.files[0]?.name !== stage.graph) ctx.addIssue({ code: 'custom', path: ['stages', key, 'files', 0], message: `a stage's files start with its graph (${stage.graph})` });
  }
  const names = Object.values(m.stages).flatMap((stage) => stage?.files.map((f) => f.name) ?? []);
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) ctx.addIssue({ code: 'custom', path: ['stages'], message: `a file is listed twice: ${repeated.join(', ')}` });
}

/** The manifest as a whole: fields, then the rules between them (shapes, version, limits). */
export const modelManifestSchema = z.discriminatedUnion('schema', [manifestObject, stagedManifestObject]).superRefine((m, ctx) => {
  checkRequestLimits(m, ctx);
  if (m.schema === STAGED_MANIFEST_FORMAT) checkStaged(m, ctx);
  else checkOneGraph(m, ctx);
});

export type ModelManifest = z.infer<typeof modelManifestSchema>;

/**
 * The manifest fields a request is checked against and defaulted from: what the edge bundles. Also
 * the model's expected seconds per image (every stage, batch 1, where the manifest measured it),
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

/** The generator and, for a latent model, the decoder, whatever the manifest's format. */
export interface ModelStages {
  generator: { graph: string; files: string[]; output: 'image' | 'latent'; seconds?: number };
  decoder?: { graph: string; files: string[]; seconds?: number };
}

export function modelStages(m: ModelManifest): ModelStages {
  if (m.schema === MANIFEST_FORMAT) return { generator: { graph: m.file, files: [m.file], output: 'image' } };
  const { generator, decoder } = m.stages;
  return {
    generator: { graph: generator.graph, files: generator.files.map((f) => f.name), output: (generator.outputs as readonly TensorSpec[])[0]!.name as 'image' | 'latent', seconds: generator.seconds_per_image?.seconds },
    ...(decoder ? { decoder: { graph: decoder.graph, files: decoder.files.map((f) => f.name), seconds: decoder.seconds_per_image?.seconds } } : {}),
  };
}

/** The summary part of a whole manifest. */
export function summarize(manifest: ModelManifest): ModelSummary {
  const { generator, decoder } = modelStages(manifest);
  const seconds = generator.seconds === undefined && decoder?.seconds === undefined ? undefined : (generator.seconds ?? 0) + (decoder?.seconds ?? 0);
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
  const either = z.discriminatedUnion('schema', [manifestObject, stagedManifestObject]);
  return z.toJSONSchema(either.meta({ title: 'iMF model manifest', description: `models/<id>/model.json, format ${MANIFEST_FORMAT} or ${STAGED_MANIFEST_FORMAT}` }), {
    target: 'draft-2020-12',
    io: 'input',
  }) as Record<string, unknown>;
}
