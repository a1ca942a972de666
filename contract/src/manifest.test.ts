// The manifest schema: every shipped manifest passes it, each rule between fields is enforced, the
// edge's summary is derived from it, and the committed JSON Schema is what the zod schema says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shippedManifestFiles } from './testing/shipped-models.js';
import { manifestJsonSchema, modelManifestSchema, modelSummarySchema, SAMPLER_INPUTS, summarize } from './index.js';

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

describe('model summary', () => {
  it('is the manifest fields a request is checked against, and no others', () => {
    const summary = summarize(modelManifestSchema.parse(first));
    expect(Object.keys(summary).sort()).toEqual(['classes', 'guidance', 'id', 'image', 'interval', 'nfe', 'null_class', 'version']);
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

  it('names the sampler inputs and refuses fields it does not know', () => {
    const schema = manifestJsonSchema() as Json;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.inputs.prefixItems.map((i: Json) => i.properties.name.const)).toEqual(Object.keys(SAMPLER_INPUTS));
  });
});
