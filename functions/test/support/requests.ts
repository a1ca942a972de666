// What the edge suites ask for: the first registered model's canonical request with its defaults
// and a random seed, so runs against shared storage and caches never collide.
import { defaultQuality, type ImageRequest } from '@imf/contract';
import { registry } from '../../src/models/registry.js';

export const model = Object.values(registry)[0]!;

export function uniqueSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

export function image(overrides: Partial<ImageRequest> = {}): ImageRequest {
  return {
    model: model.id,
    class: 3,
    guidance: model.guidance.default,
    tmin: model.interval.default[0],
    tmax: model.interval.default[1],
    seed: uniqueSeed(),
    format: 'png',
    size: model.image.width,
    ...defaultQuality(overrides.format ?? 'png'),
    ...overrides,
  };
}
