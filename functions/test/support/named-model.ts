// A model with many named classes for the edge's tests: the contract's latent example with 150
// classes, a few of them ImageNet names, and a measured time per image of one second.
import { modelManifestSchema, summarize, type ModelRegistry, type ModelSummary } from '@imf/contract';
import { latentManifestExample } from '../../../contract/src/testing/latent-manifest.js';

const NAMED = ['tench', 'goldfish', 'Golden Retriever', 'Labrador Retriever', 'giant panda', 'red panda', "jack-o'-lantern", 'volcano'];

export function namedModel(): ModelSummary {
  const manifest = latentManifestExample();
  manifest.id = 'imf-named';
  manifest.classes = [...NAMED, ...Array.from({ length: 150 - NAMED.length }, (_, i) => `class number ${i + NAMED.length}`)];
  manifest.null_class = manifest.classes.length;
  manifest.seconds_per_image.seconds = 1;
  return summarize(modelManifestSchema.parse(manifest));
}

/** The shipped registry with the named model beside it. */
export function withNamedModel(registry: ModelRegistry): ModelRegistry {
  const named = namedModel();
  return { ...registry, [named.id]: named };
}
