// Model discovery: every folder of MODELS_DIR with a model.json is a candidate; each is validated on
// its own, so one bad manifest is refused (with its reason) while the good ones serve.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelManifest } from '@imf/contract';
import { validateManifest } from './manifest.js';

export interface DiscoveredModel {
  dir: string;
  manifest: ModelManifest;
  /** Absolute path of the ONNX file. */
  onnxPath: string;
}

export interface RefusedModel {
  dir: string;
  reason: string;
}

export interface Discovery {
  models: DiscoveredModel[];
  refused: RefusedModel[];
}

async function sha256File(path: string): Promise<string | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
  } catch {
    return undefined;
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Validates one model folder (one that holds a model.json). */
export async function inspectModelFolder(dir: string, folderName: string): Promise<DiscoveredModel | RefusedModel> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  } catch (error) {
    return { dir, reason: `model.json is not readable JSON: ${(error as Error).message}` };
  }
  const check = await validateManifest(raw, folderName, (file) => sha256File(join(dir, file)));
  if (!check.ok) return { dir, reason: check.reason };
  return { dir, manifest: check.manifest, onnxPath: join(dir, check.manifest.file) };
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
