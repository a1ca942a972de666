// The manifest schema: every shipped manifest passes it, each rule between fields is enforced, the
// edge's summary is derived from it, and the committed JSON Schema is what the zod schema says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shippedManifestFiles } from './testing/shipped-models.js';
import { stagedManifestExample } from './testing/staged-manifest.js';
import { allowedSizes, manifestJsonSchema, modelManifestSchema, modelStages, modelSummarySchema, modelTimeAllowanceMs, SAMPLER_INPUTS, summarize } from './index.js';

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
    ['a null class that is a class index', (m: Json) => (m.null_class = 3), /^null_class: 3 collides with a class index/],
    ['a default guidance outside its range', (m: Json) => (m.guidance.default = m.guidance.max + 1), /^guidance\.default: .* is outside/],
    ['an interval that is not ordered', (m: Json) => (m.interval.default = [0.6, 0.4]), /^interval\.default: \[0\.6, 0\.4\] is not 0 ≤ t_min < t_max ≤ 1/],
    ['a version that is not the hash', (m: Json) => (m.version = 'ffffffffffffffff'), /^version: "ffffffffffffffff" is not the first 16 hex digits of sha256/],
    ['noise of another shape than the image', (m: Json) => (m.noise.shape = [3, 28, 28]), /^noise\.shape: 3x28x28 differs from the image shape/],
    ['a missing sampler input', (m: Json) => m.inputs.pop(), /^inputs: the sampler's inputs are noise, class, guidance, t_min, t_max, in this order/],
    ['an input of another element type', (m: Json) => (m.inputs[1].dtype = 'float32'), /^inputs\.1\.dtype: .*int64/],
    ['a noise input of another shape', (m: Json) => (m.inputs[0].shape = ['batch', 3, 28, 28]), /^inputs\.0\.shape: "noise" has shape \[batch,3,28,28\]/],
    ['a fixed batch size', (m: Json) => (m.outputs[0].shape[0] = 4), /^outputs\.0\.shape: "image" has shape \[4,/],
    ['a file outside the model folder', (m: Json) => (m.file = '../model.onnx'), /^file: must be a plain \.onnx file name/],
  ])('refuses %s', (_name, change, message) => {
    expect(issuesOf(changed(change))).toContainEqual(expect.stringMatching(message));
  });

  it('lists the sampler inputs in the order the graph takes them', () => {
    expect(Object.keys(SAMPLER_INPUTS)).toEqual((first as Json).inputs.map((i: { name: string }) => i.name));
  });
});

/** A copy of the staged example, changed. */
const stagedChanged = (change: (m: Json) => void): unknown => {
  const m = stagedManifestExample();
  change(m);
  return m;
};

describe('staged model manifest (imf-model/2)', () => {
  it('accepts a generator and a decoder, each with its files', () => {
    expect(issuesOf(stagedManifestExample())).toEqual([]);
  });

  it('accepts a generator alone that gives the float image', () => {
    const oneStage = stagedChanged((m) => {
      delete m.stages.decoder;
      m.image = { channels: 1, height: 28, width: 28, color: 'grayscale' };
      m.noise.shape = [1, 28, 28];
      m.stages.generator.inputs[0].shape = ['batch', 1, 28, 28];
      m.stages.generator.outputs = [{ name: 'image', dtype: 'float32', shape: ['batch', 1, 28, 28], meaning: 'image in [-1, 1]' }];
    });
    expect(issuesOf(oneStage)).toEqual([]);
  });

  it.each([
    ['a version that is not the content hash', (m: Json) => (m.version = 'ffffffffffffffff'), /^version: .* is not the first 16 hex digits of content_sha256/],
    ['a file without its sha256', (m: Json) => delete m.stages.decoder.files[1].sha256, /^stages\.decoder\.files\.1\.sha256/],
    ['a file outside the model folder', (m: Json) => (m.stages.generator.files[1].name = '../weights.data'), /^stages\.generator\.files\.1\.name: must be a plain file name/],
    ['a stage whose files do not start with its graph', (m: Json) => m.stages.generator.files.reverse(), /^stages\.generator\.files\.0: a stage's files start with its graph/],
    ['a decoder image that is not NHWC bytes', (m: Json) => (m.stages.decoder.outputs[0].dtype = 'float32'), /^stages\.decoder\.outputs\.0\.dtype/],
    ['a decoder image of another size than the image', (m: Json) => (m.stages.decoder.outputs[0].shape = ['batch', 32, 32, 3]), /"image" has shape \[batch,32,32,3\], expected \[batch,64,64,3\]/],
    ['a latent of another shape than the noise', (m: Json) => (m.stages.generator.outputs[0].shape = ['batch', 4, 16, 16]), /"latent" has shape/],
    ['a colour that does not fit the channels', (m: Json) => (m.image.color = 'grayscale'), /^image\.color/],
    ['an unknown field', (m: Json) => (m.colour = 'red'), /Unrecognized key/],
    ['a stage other than generator and decoder', (m: Json) => (m.stages.upscaler = m.stages.decoder), /Unrecognized key/],
  ])('refuses %s', (_name, change, message) => {
    expect(issuesOf(stagedChanged(change))).toContainEqual(expect.stringMatching(message));
  });

  it('names each stage with its graph and files, whatever the format', () => {
    expect(modelStages(modelManifestSchema.parse(stagedManifestExample()))).toEqual({
      generator: { graph: 'generator.onnx', files: ['generator.onnx', 'generator.onnx.data'], output: 'latent', seconds: 0.5 },
      decoder: { graph: 'decoder.onnx', files: ['decoder.onnx', 'decoder.onnx.data'], seconds: 2 },
    });
    const m = modelManifestSchema.parse(first);
    expect(modelStages(m)).toEqual({ generator: { graph: (first as Json).file, files: [(first as Json).file], output: 'image' } });
  });
});

describe('model summary', () => {
  it("of a staged model carries its expected seconds per image, every stage's together", () => {
    const summary = summarize(modelManifestSchema.parse(stagedManifestExample()));
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

  it('is either format, each naming the sampler inputs and refusing fields it does not know', () => {
    const [oneGraph, staged] = (manifestJsonSchema() as Json).oneOf;
    expect([oneGraph.properties.schema.const, staged.properties.schema.const]).toEqual(['imf-model/1', 'imf-model/2']);
    expect([oneGraph.additionalProperties, staged.additionalProperties]).toEqual([false, false]);
    expect(oneGraph.properties.inputs.prefixItems.map((i: Json) => i.properties.name.const)).toEqual(Object.keys(SAMPLER_INPUTS));
    expect(staged.properties.stages.properties.generator.properties.inputs.prefixItems.map((i: Json) => i.properties.name.const)).toEqual(Object.keys(SAMPLER_INPUTS));
  });
});
