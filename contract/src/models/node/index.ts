// @imf/contract/models/node: the model repository on disk, read in one place. A models directory
// holds one folder per model; a folder with a model.json is a model, checked on its own (the
// contract's schema, its id against its folder name and, where the reader serves it, every file's
// sha256 and the version), so a bad folder is refused with its reason while the good ones beside
// it serve. The worker, the Node edge, the edge's registry generator, the tests and the local stack
// read model folders through it. Node only (node:fs), kept out of the package's main entry.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { issuesFromZod } from '../../issues.js';
import { modelManifestSchema, type ModelManifest } from '../../manifest.js';

/** A model folder whose manifest passed the schema. */
export interface ModelFolder {
  dir: string;
  manifest: ModelManifest;
  /** Absolute path of the model's one graph (noise, class, guidance, t_min, t_max → pixels). */
  graphPath: string;
}

/** A folder with a model.json that is not a model this repository serves, and why. */
export interface RefusedFolder {
  dir: string;
  reason: string;
}

export interface ModelRepository {
  models: ModelFolder[];
  refused: RefusedFolder[];
}

/** The folders of `modelsDir` that hold a model.json, sorted by name (symbolic links count: mounted volumes are made of them). */
export function modelFolders(modelsDir: string): string[] {
  return readdirSync(modelsDir, { withFileTypes: true })
    .filter((entry) => (entry.isDirectory() || entry.isSymbolicLink()) && existsSync(join(modelsDir, entry.name, 'model.json')))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b))
    .map((name) => join(modelsDir, name));
}

/** One folder's manifest, checked against the schema and the folder's name (a copied folder must not serve under a name it does not have). */
export function readModelFolder(dir: string): ModelFolder | RefusedFolder {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  } catch (error) {
    return { dir, reason: `model.json is not readable JSON: ${(error as Error).message}` };
  }
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const sentences = issuesFromZod(parsed.error).slice(0, 3).map((issue) => `${issue.parameter}: ${issue.detail}`);
    return { dir, reason: `manifest does not match the schema: ${sentences.join('; ')}` };
  }
  const manifest = parsed.data;
  const folderName = basename(dir);
  if (manifest.id !== folderName) return { dir, reason: `manifest id "${manifest.id}" differs from its folder name "${folderName}"` };
  return { dir, manifest, graphPath: join(dir, manifest.graph) };
}

/** Every model folder of `modelsDir`, each read on its own: the manifests only, no file hashed (what the edge and the tools need). */
export function readModelRepository(modelsDir: string): ModelRepository {
  const models: ModelFolder[] = [];
  const refused: RefusedFolder[] = [];
  for (const dir of modelFolders(modelsDir)) {
    const folder = readModelFolder(dir);
    if ('manifest' in folder) models.push(folder);
    else refused.push(folder);
  }
  return { models, refused };
}

/**
 * Why a model's files are not the ones its manifest hashed (a file missing, another sha256 or
 * size, a content hash that is not the version), or undefined when they are: what a server checks
 * before it serves the graph. One read of each file.
 */
export async function checkModelFiles(folder: ModelFolder): Promise<string | undefined> {
  const whole = createHash('sha256');
  for (const want of folder.manifest.files) {
    const path = join(folder.dir, want.name);
    try {
      if (!(await stat(path)).isFile()) return `the file ${want.name} is missing`;
    } catch {
      return `the file ${want.name} is missing`;
    }
    const one = createHash('sha256');
    let bytes = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
      one.update(chunk as Buffer);
      whole.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    const sha256 = one.digest('hex');
    if (sha256 !== want.sha256 || bytes !== want.bytes) {
      return `sha256 of ${want.name} is ${sha256} (${bytes} bytes), the manifest says ${want.sha256} (${want.bytes} bytes)`;
    }
  }
  const content = whole.digest('hex');
  if (content !== folder.manifest.content_sha256) return `the files' content hash is ${content}, the manifest says ${folder.manifest.content_sha256}`;
  return undefined;
}

/** Every model folder of `modelsDir` whose manifest passes and whose files are the ones it hashed. */
export async function readServableModels(modelsDir: string): Promise<ModelRepository> {
  const { models, refused } = readModelRepository(modelsDir);
  const servable: ModelFolder[] = [];
  for (const folder of models) {
    const problem = await checkModelFiles(folder);
    if (problem) refused.push({ dir: folder.dir, reason: problem });
    else servable.push(folder);
  }
  refused.sort((a, b) => a.dir.localeCompare(b.dir));
  return { models: servable, refused };
}
