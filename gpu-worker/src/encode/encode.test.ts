// Encoding: deterministic PNG bytes, exact integer upscaling, block-mean downscaling, lossless
// single-channel WebP, and RGB JPEG.
import { decode } from 'fast-png';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { downscale, encodeImage, scaleFactor, upscale } from './index.js';

const shape = { channels: 1, height: 28, width: 28 };
/** A 28×28 gradient of 8-bit pixels, clipped at both ends as a model's image is. */
const gradient = () => {
  const pixels = new Uint8Array(28 * 28);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(255, Math.max(0, Math.round(-30 + (315 * i) / (pixels.length - 1))));
  return pixels;
};

describe('encodeImage', () => {
  const pixels = gradient();

  it('writes the same PNG bytes every time', async () => {
    const a = await encodeImage(pixels, shape, 'png', 28);
    const b = await encodeImage(new Uint8Array(pixels), shape, 'png', 28);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(decode(a)).toMatchObject({ width: 28, height: 28, channels: 1, depth: 8 });
    expect(Array.from(decode(a).data)).toEqual(Array.from(pixels));
  });

  it('upscales by whole pixels: each source pixel becomes a factor × factor block', () => {
    const big = upscale(pixels, shape, 4);
    for (let y = 0; y < 112; y++) for (let x = 0; x < 112; x++) expect(big[y * 112 + x]).toBe(pixels[(y >> 2) * 28 + (x >> 2)]);
  });

  it('writes lossless single-channel WebP whose pixels are the source pixels', async () => {
    for (const size of [28, 224]) {
      const webp = await encodeImage(pixels, shape, 'webp', size);
      const meta = await sharp(webp).metadata();
      expect(meta).toMatchObject({ format: 'webp', width: size, height: size });
      const { data, info } = await sharp(webp).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(1);
      expect(Buffer.from(data).equals(Buffer.from(upscale(pixels, shape, size / 28)))).toBe(true);
    }
  });

  it('writes the same WebP bytes every time', async () => {
    const a = await encodeImage(pixels, shape, 'webp', 56);
    const b = await encodeImage(pixels, shape, 'webp', 56);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('downscales by the mean of each block, rounded half up in integers', () => {
    // A 2×2 RGB image to 1×1: channel means 1.5 → 2, 2.5 → 3, 254.25 → 254.
    const rgb = new Uint8Array([1, 2, 255, 2, 3, 254, 1, 2, 254, 2, 3, 254]);
    expect(Array.from(downscale(rgb, { channels: 3, height: 2, width: 2 }, 2))).toEqual([2, 3, 254]);
  });

  it('writes RGB JPEG at a size below the native one', async () => {
    const rgb = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7) % 256);
    const jpeg = await encodeImage(rgb, { channels: 3, height: 64, width: 64 }, 'jpeg', 32);
    const meta = await sharp(Buffer.from(jpeg)).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['jpeg', 32, 32, 3]);
  });

  it('refuses sizes that are not whole multiples of the native width', () => {
    expect(() => scaleFactor(shape, 30)).toThrow(RangeError);
    expect(scaleFactor(shape, 224)).toEqual({ up: 8, down: 1 });
    expect(scaleFactor({ channels: 3, height: 256, width: 256 }, 64)).toEqual({ up: 1, down: 4 });
  });
});
