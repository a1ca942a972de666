// Whether this worker may serve a model folder's manifest: the contract's manifest schema first
// (fields and the rules between them), then what only the worker can judge — the folder it sits
// in, the sampler kind it runs, the noise generator it implements, the files on disk and their
// hashes. validateManifest says in one sentence why a manifest is refused.
import { MANIFEST_FORMAT, modelManifestSchema, type ModelManifest } from '@imf/contract';
import { NOISE_GENERATOR } from '../noise/index.js';

export type ManifestCheck = { ok: true; manifest: ModelManifest } | { ok: false; reason: string };

/** What hashing a folder's files found: each file's sha256 and size, and the hash of all of them in order. */
export type HashedFiles = { ok: true; files: { name: string; sha256: string; bytes: number }[]; whole: string } | { ok: false; missing: string };

function describeZod(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Checks a parsed model.json. `folderName` must equal the id (a copied folder must not serve under a
 * name it does not have); `hashFiles` hashes the named files of the folder, in order, so that each
 * file's sha256 and the version (one file's hash, or the content hash of a staged model's files)
 * can be checked against the manifest.
 */
export async function validateManifest(raw: unknown, folderName: string, hashFiles: (names: string[]) => Promise<HashedFiles>): Promise<ManifestCheck> {
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: `manifest does not match the schema: ${describeZod(parsed.error)}` };
  const m = parsed.data;

  if (m.id !== folderName) return { ok: false, reason: `manifest id "${m.id}" differs from its folder name "${folderName}"` };
  // A one-graph manifest's graph is one network evaluation; a staged generator holds its whole sampler.
  if (m.schema === MANIFEST_FORMAT && m.nfe !== 1) return { ok: false, reason: `nfe is ${m.nfe}; this worker serves one-step samplers only` };
  if (m.noise.generator !== NOISE_GENERATOR) {
    return { ok: false, reason: `noise generator "${m.noise.generator}" is unknown to this worker (it implements "${NOISE_GENERATOR}")` };
  }

  if (m.schema === MANIFEST_FORMAT) {
    const hashed = await hashFiles([m.file]);
    if (!hashed.ok) return { ok: false, reason: `the ONNX file ${m.file} is missing` };
    const actual = hashed.files[0]!.sha256;
    if (actual !== m.sha256) return { ok: false, reason: `sha256 of ${m.file} is ${actual}, the manifest says ${m.sha256}` };
    return { ok: true, manifest: m };
  }

  const listed = [m.stages.generator, ...(m.stages.decoder ? [m.stages.decoder] : [])].flatMap((stage) => stage.files);
  const hashed = await hashFiles(listed.map((f) => f.name));
  if (!hashed.ok) return { ok: false, reason: `the file ${hashed.missing} is missing` };
  for (const [i, want] of listed.entries()) {
    const got = hashed.files[i]!;
    if (got.sha256 !== want.sha256 || got.bytes !== want.bytes) {
      return { ok: false, reason: `sha256 of ${want.name} is ${got.sha256} (${got.bytes} bytes), the manifest says ${want.sha256} (${want.bytes} bytes)` };
    }
  }
  if (hashed.whole !== m.content_sha256) return { ok: false, reason: `the files' content hash is ${hashed.whole}, the manifest says ${m.content_sha256}` };
  return { ok: true, manifest: m };
}
