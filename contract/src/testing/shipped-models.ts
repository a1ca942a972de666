// The shipped model folders (models/<id>/model.json) as the contract's tests see them: the real
// manifests, read by the contract's model repository reader, so limits and defaults in the tests
// come from them and never from literals.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, type ModelRegistry } from '../manifest.js';
import { modelFolders, readModelRepository } from '../models/node/index.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const shippedModelsDir = join(repoRoot, 'models');

/** The model.json of every shipped model folder, as parsed JSON (not yet checked), by folder name. */
export function shippedManifestFiles(): Record<string, unknown> {
  return Object.fromEntries(modelFolders(shippedModelsDir).map((dir) => [dir.slice(shippedModelsDir.length + 1), JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))]));
}

/** The shipped models by id, each read and checked by the contract's reader; a refused one fails loudly. */
export const registry: ModelRegistry = (() => {
  const { models, refused } = readModelRepository(shippedModelsDir);
  if (refused.length > 0) throw new Error(`shipped model folders refused: ${refused.map((r) => `${r.dir}: ${r.reason}`).join('; ')}`);
  return Object.fromEntries(models.map(({ manifest }) => [manifest.id, summarize(manifest)]));
})();
