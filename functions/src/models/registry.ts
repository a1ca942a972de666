// The models this edge serves, validated once at start-up: a manifest that does not parse stops
// the deployment instead of producing wrong defaults per request.
import { modelManifestSchema, type ModelRegistry } from '@imf/contract';
import { manifests } from './registry.generated.js';

export function buildRegistry(list: readonly unknown[] = manifests): ModelRegistry {
  const registry: Record<string, ReturnType<typeof modelManifestSchema.parse>> = {};
  for (const raw of list) {
    const manifest = modelManifestSchema.parse(raw);
    registry[manifest.id] = manifest;
  }
  return Object.freeze(registry);
}

export const registry: ModelRegistry = buildRegistry();
