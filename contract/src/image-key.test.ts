// The image key: deterministic, sensitive to every field of the request and to the model version.
import { describe, expect, it } from 'vitest';
import { registry } from './testing/shipped-models.js';
import { imageEtag, imageKey, objectKey, type ImageRequest } from './index.js';

const model = Object.values(registry)[0]!;
const base: ImageRequest = { model: model.id, class: 1, guidance: model.guidance.default, tmin: 0, tmax: 1, seed: 42, format: 'png', size: model.image.width };

describe('image key', () => {
  it('is a stable hex SHA-256 of the canonical form and version', async () => {
    const key = await imageKey(base, model.version);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await imageKey({ ...base }, model.version)).toBe(key);
  });

  it('changes with the model version and with each field', async () => {
    const key = await imageKey(base, model.version);
    expect(await imageKey(base, `${model.version}x`)).not.toBe(key);
    for (const change of [{ class: 2 }, { guidance: base.guidance + 0.5 }, { tmin: 0.1 }, { tmax: 0.9 }, { seed: 43 }, { format: 'webp' as const }, { size: base.size * 2 }]) {
      expect(await imageKey({ ...base, ...change }, model.version)).not.toBe(key);
    }
  });

  it('lays objects out by model and version', async () => {
    const key = await imageKey(base, model.version);
    expect(objectKey(base, model.version, key)).toBe(`images/${model.id}/${model.version}/${key}.png`);
    expect(imageEtag(key)).toBe(`"${key}"`);
  });
});
