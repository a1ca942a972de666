// A model with many named classes for the edge's tests: the contract's staged example with 150
// classes, a few of them ImageNet names, and a measured time per image of one second.
import { modelManifestSchema, summarize, type ModelRegistry, type ModelSummary } from '@imf/contract';
import { stagedManifestExample } from '../../../contract/src/testing/staged-manifest.js';

const NAMED = ['tench', 'goldfish', 'Golden Retriever', 'Labrador Retriever', 'giant panda', 'red panda', "jack-o'-lantern", 'volcano'];

export function namedModel(): ModelSummary {
  const manifest = stagedManifestExample();
  manifest.id = 'imf-named';
  manifest.classes = [...NAMED, ...Array.from({ length: 150 - NAMED.length }, (_, i) => `class number ${i + NAMED.length}`)];
  manifest.null_class = manifest.classes.length;
  manifest.stages.generator.seconds_per_image.seconds = 0.25;
  manifest.stages.decoder.seconds_per_image.seconds = 0.75;
  return summarize(modelManifestSchema.parse(manifest));
}

/** The shipped registry with the named model beside it. */
export function withNamedModel(registry: ModelRegistry): ModelRegistry {
  const named = namedModel();
  return { ...registry, [named.id]: named };
}
