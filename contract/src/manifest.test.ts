// The manifest schema: every shipped manifest passes it, each rule between fields is enforced, the
// edge's summary is derived from it, and the committed JSON Schema is what the zod schema says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shippedManifestFiles } from './testing/shipped-models.js';
import { latentManifestExample } from './testing/latent-manifest.js';
import { allowedSizes, manifestJsonSchema, MANIFEST_FORMAT, modelManifestSchema, modelSummarySchema, modelTimeAllowanceMs, SAMPLER_INPUTS, summarize } from './index.js';

const shipped = shippedManifestFiles();
const [first] = Object.values(shipped);
/** A copy of the first shipped manifest, changed. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const changed = (change: (m: Json) => void): unknown => {
  const m = structuredClone(first) as Json;
  change(m);
  return m;
};
const issuesOf = (raw: unknown) => {
  const result = modelManifestSchema.safeParse(raw);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('model manifest', () => {
  it.each(Object.keys(shipped))('accepts the shipped manifest of %s', (folder) => {
    expect(issuesOf(shipped[folder])).toEqual([]);
  });

  it.each([
    ['an unknown field', (m: Json) => (m.colour = 'red'), /Unrecognized key/],
    ['another format', (m: Json) => (m.schema = 'imf-model/1'), /^schema: .*imf-model\/3/],
    ['a null class that is a class index', (m: Json) => (m.null_class = 3), /^null_class: 3 collides with a class index/],
    ['a default guidance outside its range', (m: Json) => (m.guidance.default = m.guidance.max + 1), /^guidance\.default: .* is outside/],
    ['an interval that is not ordered', (m: Json) => (m.interval.default = [0.6, 0.4]), /^interval\.default: \[0\.6, 0\.4\] is not 0 ≤ t_min < t_max ≤ 1/],
    ['a version that is not the content hash', (m: Json) => (m.version = 'ffffffffffffffff'), /^version: "ffffffffffffffff" is not the first 16 hex digits of content_sha256/],
    ['noise of another shape than the noise input', (m: Json) => (m.noise.shape = [3, 28, 28]), /^inputs\.0\.shape: "noise" has shape \[batch,1,28,28\], expected \[batch,3,28,28\]/],
    ['a missing sampler input', (m: Json) => m.inputs.pop(), /^inputs: the sampler's inputs are noise, class, guidance, t_min, t_max, in this order/],
    ['an input of another element type', (m: Json) => (m.inputs[1].dtype = 'float32'), /^inputs\.1\.dtype: .*int64/],
    ['a fixed batch size', (m: Json) => (m.outputs[0].shape[0] = 4), /^outputs\.0\.shape: "image" has shape \[4,/],
    ['float pixels', (m: Json) => (m.outputs[0].dtype = 'float32'), /^outputs\.0\.dtype: .*uint8/],
    ['pixels of another size than the image', (m: Json) => (m.outputs[0].shape = ['batch', 14, 14, 1]), /"image" has shape \[batch,14,14,1\], expected \[batch,28,28,1\]/],
    ['pixels that are not NHWC', (m: Json) => (m.outputs[0].layout = 'NCHW'), /^outputs\.0\.layout: the image is NHWC/],
    ['a graph outside the model folder', (m: Json) => (m.graph = '../model.onnx'), /^graph: must be a plain \.onnx file name/],
    ['files that do not start with the graph', (m: Json) => (m.files[0].name = 'other.onnx'), /^files\.0: the files start with the graph/],
    ['a colour that does not fit the channels', (m: Json) => (m.image.color = 'rgb'), /^image\.color/],
  ])('refuses %s', (_name, change, message) => {
    expect(issuesOf(changed(change))).toContainEqual(expect.stringMatching(message));
  });

  it('lists the sampler inputs in the order the graph takes them', () => {
    expect(Object.keys(SAMPLER_INPUTS)).toEqual((first as Json).inputs.map((i: { name: string }) => i.name));
  });
});

/** A float16 import's `precision`, as models/imf/export/half.py writes it. */
const halfPrecision = {
  compute: 'float16',
  float32_parts: ['the pixel rounding (decoder output to uint8)'],
  against_float32: { max: 1, differing: 6530, values: 73728, share: 0.088569, mean_abs: 0.0886, psnr_db: 58.66, requests: 6, provider: 'CPUExecutionProvider', measured: 'at import' },
  tolerance: { mean_abs_max: 1, psnr_db_min: 35 },
};

/** A copy of the latent example, changed. */
const latentChanged = (change: (m: Json) => void): unknown => {
  const m = latentManifestExample();
  change(m);
  return m;
};

describe('latent model manifest', () => {
  it('accepts one graph from latent noise to pixels, with its external-data file', () => {
    expect(issuesOf(latentManifestExample())).toEqual([]);
  });

  it.each([
    ['a file without its sha256', (m: Json) => delete m.files[1].sha256, /^files\.1\.sha256/],
    ['a file outside the model folder', (m: Json) => (m.files[1].name = '../weights.data'), /^files\.1\.name: must be a plain file name/],
    ['a file listed twice', (m: Json) => (m.files[1].name = 'model.onnx'), /^files: a file is listed twice: model\.onnx/],
    ['a noise input of another shape than the latent noise', (m: Json) => (m.inputs[0].shape = ['batch', 4, 16, 16]), /"noise" has shape \[batch,4,16,16\], expected \[batch,4,8,8\]/],
    ['a stage other than the one graph', (m: Json) => (m.stages = { decoder: {} }), /Unrecognized key/],
    ['a float16 graph that does not say how far it is from float32', (m: Json) => (m.precision = { compute: 'float16' }), /^precision\.against_float32: a float16 graph states how far its pixels are from float32's/],
    ['a precision the worker is not offered', (m: Json) => (m.precision = { compute: 'bfloat16' }), /^precision\.compute/],
    ['a pixel difference beyond 8 bits', (m: Json) => (m.precision = { ...halfPrecision, against_float32: { ...halfPrecision.against_float32, max: 256 } }), /^precision\.against_float32\.max/],
  ])('refuses %s', (_name, change, message) => {
    expect(issuesOf(latentChanged(change))).toContainEqual(expect.stringMatching(message));
  });

  it('accepts a float16 graph with its measured difference from float32, and float32 said outright', () => {
    expect(issuesOf(latentChanged((m) => (m.precision = halfPrecision)))).toEqual([]);
    expect(issuesOf(latentChanged((m) => (m.precision = { compute: 'float32' })))).toEqual([]);
  });
});

describe('model summary', () => {
  it('of a latent model carries its expected seconds per image', () => {
    const summary = summarize(modelManifestSchema.parse(latentManifestExample()));
    expect(summary.seconds_per_image).toBe(2.5);
    expect(summary.image).toEqual({ channels: 3, height: 64, width: 64 });
    expect(modelTimeAllowanceMs(summary)).toBe(10_000);
    expect(modelTimeAllowanceMs(summarize(modelManifestSchema.parse(first)))).toBe(0);
  });

  it('allows a 256-pixel model 64, 128, 256, 512 and 1024 pixels, and a 28-pixel one its multiples', () => {
    const summary = (width: number) => ({ image: { channels: 3, height: width, width } });
    expect(allowedSizes(summary(256))).toEqual([64, 128, 256, 512, 1024]);
    expect(allowedSizes(summary(28))).toEqual([28, 56, 112, 224]);
  });

  it('is the manifest fields a request is checked against, and no others', () => {
    const summary = summarize(modelManifestSchema.parse(first));
    expect(Object.keys(summary).sort()).toEqual(['classes', 'guidance', 'id', 'image', 'interval', 'nfe', 'null_class', 'version']);
    expect(summary.image).toEqual({ channels: 1, height: 28, width: 28 });
    expect(modelSummarySchema.parse(summary)).toEqual(summary);
  });

  it('keeps the rules between limits and defaults', () => {
    const summary = { ...summarize(modelManifestSchema.parse(first)), null_class: 0 };
    expect(modelSummarySchema.safeParse(summary).success).toBe(false);
  });
});

describe('manifest.schema.json', () => {
  it('is the JSON Schema of the zod schema (npm run schema --workspace @imf/contract rewrites it)', () => {
    const committed = JSON.parse(readFileSync(new URL('../manifest.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(manifestJsonSchema());
  });

  it('is the one format, naming the sampler inputs and refusing fields it does not know', () => {
    const schema = manifestJsonSchema() as Json;
    expect(schema.properties.schema.const).toBe(MANIFEST_FORMAT);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.inputs.prefixItems.map((i: Json) => i.properties.name.const)).toEqual(Object.keys(SAMPLER_INPUTS));
    expect(schema.properties.outputs.prefixItems[0].properties.dtype.const).toBe('uint8');
  });
});
