// Model discovery: the contract's model repository reader finds every folder of MODELS_DIR with a
// model.json and checks each on its own (schema, id against folder name, every file's sha256);
// then this worker refuses what only it can judge, a noise generator it does not implement. One
// bad folder is refused with its reason while the good ones beside it serve.
import { readServableModels, type ModelFolder, type RefusedFolder } from '@imf/contract/models/node';
import { NOISE_GENERATOR } from '../noise/index.js';

export type { ModelFolder, RefusedFolder as RefusedModel };

export interface Discovery {
  models: ModelFolder[];
  refused: RefusedFolder[];
}

/** Why this worker cannot serve a model whose folder passed the contract's checks, or undefined. */
function workerRefusal(folder: ModelFolder): string | undefined {
  const { generator } = folder.manifest.noise;
  if (generator !== NOISE_GENERATOR) return `noise generator "${generator}" is unknown to this worker (it implements "${NOISE_GENERATOR}")`;
  return undefined;
}

/** Every model folder under `modelsDir` (sorted by name) that this worker can serve, and the refused ones with their reasons. */
export async function discoverModels(modelsDir: string): Promise<Discovery> {
  const { models, refused } = await readServableModels(modelsDir);
  const served: ModelFolder[] = [];
  for (const folder of models) {
    const reason = workerRefusal(folder);
    if (reason) refused.push({ dir: folder.dir, reason });
    else served.push(folder);
  }
  return { models: served, refused: refused.sort((a, b) => a.dir.localeCompare(b.dir)) };
}
