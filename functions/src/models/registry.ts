// The models this edge serves, validated once at start-up: a summary that does not parse stops the
// deployment instead of producing wrong defaults per request.
import { modelSummarySchema, type ModelRegistry, type ModelSummary } from '@imf/contract';
import { manifests } from './registry.generated.js';

export function buildRegistry(list: readonly unknown[] = manifests): ModelRegistry {
  const registry: Record<string, ModelSummary> = {};
  for (const raw of list) {
    const summary = modelSummarySchema.parse(raw);
    registry[summary.id] = summary;
  }
  return Object.freeze(registry);
}

export const registry: ModelRegistry = buildRegistry();
