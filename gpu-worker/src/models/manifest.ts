// Whether this worker may serve a model folder's manifest: the contract's manifest schema first
// (fields and the rules between them), then what only the worker can judge — the folder it sits
// in, the sampler kind it runs, the noise generator it implements, the ONNX file on disk.
// validateManifest says in one sentence why a manifest is refused.
import { modelManifestSchema, type ModelManifest } from '@imf/contract';
import { NOISE_GENERATOR } from '../noise/index.js';

export type ManifestCheck = { ok: true; manifest: ModelManifest } | { ok: false; reason: string };

function describeZod(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Checks a parsed model.json. `folderName` must equal the id (a copied folder must not serve under a
 * name it does not have); `onnxSha256` is the hash of the file the manifest names, which must be its
 * sha256.
 */
export async function validateManifest(
  raw: unknown,
  folderName: string,
  onnxSha256: (file: string) => Promise<string | undefined>,
): Promise<ManifestCheck> {
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: `manifest does not match the schema: ${describeZod(parsed.error)}` };
  const m = parsed.data;

  if (m.id !== folderName) return { ok: false, reason: `manifest id "${m.id}" differs from its folder name "${folderName}"` };
  if (m.nfe !== 1) return { ok: false, reason: `nfe is ${m.nfe}; this worker serves one-step samplers only` };
  if (m.noise.generator !== NOISE_GENERATOR) {
    return { ok: false, reason: `noise generator "${m.noise.generator}" is unknown to this worker (it implements "${NOISE_GENERATOR}")` };
  }

  const actual = await onnxSha256(m.file);
  if (actual === undefined) return { ok: false, reason: `the ONNX file ${m.file} is missing` };
  if (actual !== m.sha256) return { ok: false, reason: `sha256 of ${m.file} is ${actual}, the manifest says ${m.sha256}` };
  return { ok: true, manifest: m };
}
