// Encoding: pixels rounded exactly as the reference rounds them, deterministic PNG bytes, exact
// integer upscaling, block-mean downscaling, lossless single-channel WebP, and RGB JPEG.
import { decode } from 'fast-png';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { downscale, encodeImage, scaleFactor, toPixels, upscale } from './index.js';

const shape = { channels: 1, height: 28, width: 28 };
const gradient = () => {
  const image = new Float32Array(28 * 28);
  for (let i = 0; i < image.length; i++) image[i] = -1.2 + (2.4 * i) / (image.length - 1);
  return image;
};

describe('toPixels', () => {
  it('maps [-1, 1] to 0..255 by round(clamp((x + 1) * 127.5)), clamping what lies outside', () => {
    const pixels = toPixels(new Float32Array([-1.5, -1, 0, 1, 2, 0.5]), { channels: 1, height: 1, width: 6 });
    expect(Array.from(pixels)).toEqual([0, 0, 128, 255, 255, 191]);
  });

  it('rounds ties to even, like torch.round', () => {
    // Float32 inputs whose float32 (x + 1) * 127.5 lands exactly on n + 0.5, found by search.
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const ties: { x: number; scaled: number }[] = [];
    for (let n = 1; n < 254 && ties.length < 40; n++) {
      f32[0] = (n + 0.5) / 127.5 - 1;
      for (let step = -64; step <= 64; step++) {
        const probe = new Float32Array(1);
        new Uint32Array(probe.buffer)[0] = u32[0]! + step;
        const x = probe[0]!;
        const scaled = Math.fround(Math.fround(x + 1) * 127.5);
        if (scaled === n + 0.5) ties.push({ x, scaled });
      }
    }
    expect(ties.some((t) => Math.floor(t.scaled) % 2 === 0)).toBe(true);
    expect(ties.some((t) => Math.floor(t.scaled) % 2 === 1)).toBe(true);
    const pixels = toPixels(new Float32Array(ties.map((t) => t.x)), { channels: 1, height: 1, width: ties.length });
    ties.forEach((t, i) => {
      const floor = Math.floor(t.scaled);
      expect(pixels[i]).toBe(floor % 2 === 0 ? floor : floor + 1);
    });
  });

  it('interleaves channels (CHW in, HWC out)', () => {
    const chw = new Float32Array([-1, 1, /* G */ 0, 0, /* B */ 1, -1]);
    expect(Array.from(toPixels(chw, { channels: 3, height: 1, width: 2 }))).toEqual([0, 128, 255, 255, 128, 0]);
  });
});

describe('encodeImage', () => {
  const pixels = toPixels(gradient(), shape);

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
