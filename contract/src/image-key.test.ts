// The image key: the SHA-256 of a fixed text (scheme, model version, canonical path), so any
// implementation that writes that text gets the same key. The vectors below were computed with
// sha256sum from the text, not with this code.
import { describe, expect, it } from 'vitest';
import { IMMUTABLE_CACHE_CONTROL, imageEtag, imageKey, objectKey, type ImageRequest } from './index.js';

const version = '0123456789abcdef';
const three: ImageRequest = { model: 'imf-mnist', class: 3, guidance: 3, tmin: 0, tmax: 1, seed: 42, format: 'png', size: 28 };
const unconditional: ImageRequest = { model: 'imf-mnist', class: 10, guidance: 2.5, tmin: 0.1, tmax: 0.9, seed: 4294967295, format: 'webp', size: 224, quality: 80 };

describe('image key', () => {
  it('is the SHA-256 of "imf-image/2", the version and the canonical path, one per line', async () => {
    // printf 'imf-image/2\n0123456789abcdef\n/v1/images/imf-mnist/3.png?guidance=3&tmin=0&tmax=1&seed=42&size=28' | sha256sum
    expect(await imageKey(three, version)).toBe('c61fcf05b3313e4317588b237293f82678398dee74e540c03df051170c318e3f');
    // printf 'imf-image/2\n0123456789abcdef\n/v1/images/imf-mnist/10.webp?guidance=2.5&tmin=0.1&tmax=0.9&seed=4294967295&size=224&quality=80' | sha256sum
    expect(await imageKey(unconditional, version)).toBe('a5c5064cdcdf7855ae3a81d7d11052fa6c2a230e6cdc1cd5cb0f477b23bb50ed');
  });

  it('changes with the model version and with each field', async () => {
    const key = await imageKey(three, version);
    expect(await imageKey(three, 'fedcba9876543210')).not.toBe(key);
    for (const change of [{ class: 2 }, { guidance: 3.5 }, { tmin: 0.1 }, { tmax: 0.9 }, { seed: 43 }, { format: 'webp' as const }, { size: 56 }]) {
      expect(await imageKey({ ...three, ...change }, version)).not.toBe(key);
    }
    const lossy = await imageKey(unconditional, version);
    expect(await imageKey({ ...unconditional, quality: 81 }, version)).not.toBe(lossy);
  });

  it('stores images under images/<model>/<version>/<key>.<format>', () => {
    expect(objectKey(unconditional, version, 'dbb06e65')).toBe('images/imf-mnist/0123456789abcdef/dbb06e65.webp');
  });

  it('is the strong ETag, quoted, and such images are cached for a year, immutable', () => {
    expect(imageEtag('bd865bc3')).toBe('"bd865bc3"');
    expect(IMMUTABLE_CACHE_CONTROL).toBe('public, max-age=31536000, immutable');
  });
});
