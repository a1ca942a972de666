// A model whose sizes reach 1024 pixels (native 256, RGB) for the pricing tests: the contract's
// staged example, renamed and resized; the fake workers answer for any model.
import { modelManifestSchema, summarize, type ModelRegistry, type ModelSummary } from '@imf/contract';
import { stagedManifestExample } from '../../../contract/src/testing/staged-manifest.js';

export function largeModel(): ModelSummary {
  const manifest = stagedManifestExample();
  manifest.id = 'imf-large';
  manifest.image = { channels: 3, height: 256, width: 256, color: 'rgb' };
  manifest.stages.decoder!.outputs[0]!.shape = ['batch', 256, 256, 3];
  return summarize(modelManifestSchema.parse(manifest));
}

/** The shipped registry with the large model beside it. */
export function withLargeModel(registry: ModelRegistry): ModelRegistry {
  const large = largeModel();
  return { ...registry, [large.id]: large };
}
