// Model discovery: every folder of MODELS_DIR with a model.json is a candidate; each is validated on
// its own, so one bad manifest is refused (with its reason) while the good ones serve.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { modelStages, type ModelManifest } from '@imf/contract';
import { validateManifest, type HashedFiles } from './manifest.js';

export interface DiscoveredModel {
  dir: string;
  manifest: ModelManifest;
  /** Absolute path of the generator graph (the one-step sampler). */
  onnxPath: string;
  /** Absolute path of the decoder graph, for a latent model. */
  decoderPath?: string;
}

export interface RefusedModel {
  dir: string;
  reason: string;
}

export interface Discovery {
  models: DiscoveredModel[];
  refused: RefusedModel[];
}

/** Each file's sha256 and size and the sha256 of all of them concatenated, in one read of each. */
async function hashFiles(dir: string, names: string[]): Promise<HashedFiles> {
  const whole = createHash('sha256');
  const files = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (!(await stat(path)).isFile()) return { ok: false, missing: name };
    } catch {
      return { ok: false, missing: name };
    }
    const one = createHash('sha256');
    let bytes = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
      one.update(chunk as Buffer);
      whole.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    files.push({ name, sha256: one.digest('hex'), bytes });
  }
  return { ok: true, files, whole: whole.digest('hex') };
}

/** Validates one model folder (one that holds a model.json). */
export async function inspectModelFolder(dir: string, folderName: string): Promise<DiscoveredModel | RefusedModel> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  } catch (error) {
    return { dir, reason: `model.json is not readable JSON: ${(error as Error).message}` };
  }
  const check = await validateManifest(raw, folderName, (names) => hashFiles(dir, names));
  if (!check.ok) return { dir, reason: check.reason };
  const { generator, decoder } = modelStages(check.manifest);
  return { dir, manifest: check.manifest, onnxPath: join(dir, generator.graph), ...(decoder ? { decoderPath: join(dir, decoder.graph) } : {}) };
}

/** Every model folder under `modelsDir` (sorted by name), validated. Folders without model.json are not models. */
export async function discoverModels(modelsDir: string): Promise<Discovery> {
  const entries = await readdir(modelsDir, { withFileTypes: true });
  const models: DiscoveredModel[] = [];
  const refused: RefusedModel[] = [];
  // Symbolic links count too: mounted volumes (Kubernetes ConfigMaps, shared disks) are made of them.
  for (const entry of entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = join(modelsDir, entry.name);
    try {
      await stat(join(dir, 'model.json'));
    } catch {
      continue;
    }
    const result = await inspectModelFolder(dir, entry.name);
    if ('manifest' in result) models.push(result);
    else refused.push(result);
  }
  return { models, refused };
}
