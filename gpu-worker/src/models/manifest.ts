// The worker's view of a shipped model's manifest (models/<id>/model.json): the edge's part from the
// shared contract plus what serving needs — the ONNX file and its hash, the sampler's inputs and
// outputs, and the noise generator. validateManifest says in one sentence why a manifest is refused.
import { z } from 'zod';
import { modelManifestSchema, type ModelManifest } from '@imf/contract';
import { NOISE_GENERATOR } from '../noise/index.js';

export const MANIFEST_SCHEMA = 'imf-model/1';

/**
 * The one-step sampler every model graph is (PRODUCT.md, "The model contract"): these named inputs
 * and output with these element types. Shapes come from the manifest's image size.
 */
export const SAMPLER_INPUTS = {
  noise: 'float32',
  class: 'int64',
  guidance: 'float32',
  t_min: 'float32',
  t_max: 'float32',
} as const;
export const SAMPLER_OUTPUT = { image: 'float32' } as const;
export type SamplerInputName = keyof typeof SAMPLER_INPUTS;

const dimension = z.union([z.number().int().positive(), z.string().min(1)]);
const tensorSpec = z.object({ name: z.string().min(1), dtype: z.string().min(1), shape: z.array(dimension) });

/** The fields only the worker reads; parsed apart from the shared part so the two never mix. */
const servingSchema = z.object({
  schema: z.literal(MANIFEST_SCHEMA),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  file: z
    .string()
    .regex(/^[A-Za-z0-9._-]+\.onnx$/, 'must be a plain .onnx file name inside the model folder')
    .default('model.onnx'),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
  noise: z.object({
    generator: z.string(),
    shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
    order: z.literal('CHW'),
  }),
});

export type TensorSpec = z.infer<typeof tensorSpec>;

/** A manifest that passed every check that needs no ONNX Runtime: what the worker may serve. */
export interface ServableManifest extends ModelManifest {
  schema: typeof MANIFEST_SCHEMA;
  sha256: string;
  file: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  noise: { generator: string; shape: [number, number, number]; order: 'CHW' };
}

export type ManifestCheck = { ok: true; manifest: ServableManifest } | { ok: false; reason: string };

function describeZod(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Checks a parsed model.json against the schema and the sampler contract. `folderName` must equal
 * the id (a copied folder must not serve under a name it does not have); `onnxSha256` is the hash of
 * the file the manifest names, which must be its sha256 and start its version.
 */
export async function validateManifest(
  raw: unknown,
  folderName: string,
  onnxSha256: (file: string) => Promise<string | undefined>,
): Promise<ManifestCheck> {
  const shared = modelManifestSchema.safeParse(raw);
  if (!shared.success) return { ok: false, reason: `manifest does not match the schema: ${describeZod(shared.error)}` };
  const serving = servingSchema.safeParse(raw);
  if (!serving.success) return { ok: false, reason: `manifest does not match the schema: ${describeZod(serving.error)}` };
  const m: ServableManifest = { ...shared.data, ...serving.data };

  if (m.id !== folderName) return { ok: false, reason: `manifest id "${m.id}" differs from its folder name "${folderName}"` };
  if (m.nfe !== 1) return { ok: false, reason: `nfe is ${m.nfe}; this worker serves one-step samplers only` };
  if (m.null_class < m.classes.length) {
    return { ok: false, reason: `null_class ${m.null_class} collides with a class index (there are ${m.classes.length} classes)` };
  }
  const g = m.guidance;
  if (!(g.min <= g.default && g.default <= g.max)) return { ok: false, reason: `guidance default ${g.default} is outside [${g.min}, ${g.max}]` };
  const [t0, t1] = m.interval.default;
  if (!(t0 >= 0 && t0 < t1 && t1 <= 1)) return { ok: false, reason: `interval default [${t0}, ${t1}] is not 0 ≤ t_min < t_max ≤ 1` };

  if (m.noise.generator !== NOISE_GENERATOR) {
    return { ok: false, reason: `noise generator "${m.noise.generator}" is unknown to this worker (it implements "${NOISE_GENERATOR}")` };
  }
  const chw: [number, number, number] = [m.image.channels, m.image.height, m.image.width];
  if (m.noise.shape.join('x') !== chw.join('x')) {
    return { ok: false, reason: `noise shape ${m.noise.shape.join('x')} differs from the image shape ${chw.join('x')}` };
  }

  const imageShape = ['batch', ...chw].join(',');
  const expectShape = (spec: TensorSpec) => (spec.name === 'noise' || spec.name === 'image' ? imageShape : 'batch');
  for (const [kind, list, wanted] of [
    ['input', m.inputs, SAMPLER_INPUTS],
    ['output', m.outputs, SAMPLER_OUTPUT],
  ] as const) {
    for (const [name, dtype] of Object.entries(wanted)) {
      const spec = list.find((s) => s.name === name);
      if (!spec) return { ok: false, reason: `${kind} "${name}" is missing (the sampler takes noise, class, guidance, t_min, t_max and gives image)` };
      if (spec.dtype !== dtype) return { ok: false, reason: `${kind} "${name}" is ${spec.dtype}, expected ${dtype}` };
      const shape = spec.shape.join(',');
      if (shape !== expectShape(spec)) return { ok: false, reason: `${kind} "${name}" has shape [${shape}], expected [${expectShape(spec)}]` };
    }
  }

  const actual = await onnxSha256(m.file);
  if (actual === undefined) return { ok: false, reason: `the ONNX file ${m.file} is missing` };
  if (actual !== m.sha256) return { ok: false, reason: `sha256 of ${m.file} is ${actual}, the manifest says ${m.sha256}` };
  if (m.version !== m.sha256.slice(0, 16)) {
    return { ok: false, reason: `version "${m.version}" is not the first 16 hex digits of the ONNX sha256 (${m.sha256.slice(0, 16)})` };
  }
  return { ok: true, manifest: m };
}
