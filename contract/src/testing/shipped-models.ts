// The shipped model folders (models/<id>/model.json) as the contract's tests see them: the real
// manifests, so limits and defaults in the tests come from them and never from literals.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelManifestSchema, type ModelRegistry } from '../manifest.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const modelsDir = join(repoRoot, 'models');

/** The model.json of every shipped model folder, as parsed JSON, by folder name. */
export function shippedManifestFiles(): Record<string, unknown> {
  const files: Record<string, unknown> = {};
  for (const entry of readdirSync(modelsDir, { withFileTypes: true })) {
    const file = join(modelsDir, entry.name, 'model.json');
    if (entry.isDirectory() && existsSync(file)) files[entry.name] = JSON.parse(readFileSync(file, 'utf8'));
  }
  return files;
}

/** The shipped models by id, parsed with the contract's schema. */
export const registry: ModelRegistry = Object.fromEntries(
  Object.values(shippedManifestFiles()).map((raw) => {
    const manifest = modelManifestSchema.parse(raw);
    return [manifest.id, manifest];
  }),
);
