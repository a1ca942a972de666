// A model whose sizes reach 1024 pixels (native 256, RGB) for the pricing tests: the contract's
// latent example, renamed and resized; the fake workers answer for any model.
import { modelManifestSchema, summarize, type ModelRegistry, type ModelSummary } from '@imf/contract';
import { latentManifestExample } from '../../../contract/src/testing/latent-manifest.js';

export function largeModel(): ModelSummary {
  const manifest = latentManifestExample();
  manifest.id = 'imf-large';
  manifest.image = { channels: 3, height: 256, width: 256, color: 'rgb' };
  manifest.outputs[0]!.shape = ['batch', 256, 256, 3];
  return summarize(modelManifestSchema.parse(manifest));
}

/** The shipped registry with the large model beside it. */
export function withLargeModel(registry: ModelRegistry): ModelRegistry {
  const large = largeModel();
  return { ...registry, [large.id]: large };
}
