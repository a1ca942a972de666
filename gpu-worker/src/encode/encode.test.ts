// Encoding: exact integer upscaling, block-mean downscaling in the pixel threads, lossless PNG,
// lossy WebP and JPEG at the request's quality,
// and the same bytes for the same request whatever libvips' thread count.
import { decode } from 'fast-png';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUALITY, IMAGE_FORMATS, isLossy, type ImageFormat } from '@imf/contract';
import { PixelThreads } from './pixel-threads.js';
import { downscale, encodeImage, scaleFactor, type EncodeTarget } from './index.js';

const shape = { channels: 1, height: 28, width: 28 };
/** A 28×28 gradient of 8-bit pixels, clipped at both ends as a model's image is. */
const gradient = () => {
  const pixels = new Uint8Array(28 * 28);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(255, Math.max(0, Math.round(-30 + (315 * i) / (pixels.length - 1))));
  return pixels;
};

/** The reference upscale: each source pixel becomes a factor × factor block. */
function upscale(pixels: Uint8Array, shape: { channels: number; height: number; width: number }, factor: number): Uint8Array {
  const { channels, width } = shape;
  const outWidth = width * factor;
  const out = new Uint8Array(pixels.length * factor * factor);
  for (let i = 0; i < out.length; i++) {
    const c = i % channels;
    const x = Math.floor(i / channels) % outWidth;
    const y = Math.floor(i / channels / outWidth);
    out[i] = pixels[(Math.floor(y / factor) * width + Math.floor(x / factor)) * channels + c]!;
  }
  return out;
}

/** Photo-like RGB: smooth gradients with a fine texture, so the lossy encoders have work to do. */
function photoLike(edge: number): Uint8Array {
  const out = new Uint8Array(edge * edge * 3);
  for (let y = 0; y < edge; y++) {
    for (let x = 0; x < edge; x++) {
      for (let c = 0; c < 3; c++) out[(y * edge + x) * 3 + c] = (128 + 90 * Math.sin((x + 17 * c) / 9) * Math.cos(y / 13) + ((x * 31 + y * 17 + c * 7) % 23)) & 255;
    }
  }
  return out;
}

const targets = (size: number, format: ImageFormat): EncodeTarget => ({ format, size, ...(isLossy(format) ? { quality: DEFAULT_QUALITY[format] } : {}) });

describe('encodeImage', () => {
  const pixels = gradient();
  const rgbShape = { channels: 3, height: 64, width: 64 };
  const rgb = photoLike(64);
  const concurrency = sharp.concurrency();
  afterAll(() => {
    sharp.concurrency(concurrency);
  });

  it('writes lossless grayscale PNG whose pixels are the source pixels, upscaled by whole pixels', async () => {
    for (const size of [28, 224]) {
      const png = decode(await encodeImage(pixels, shape, { format: 'png', size }));
      expect(png).toMatchObject({ width: size, height: size, channels: 1, depth: 8 });
      expect(Buffer.from(png.data as Uint8Array).equals(Buffer.from(upscale(pixels, shape, size / 28)))).toBe(true);
    }
  });

  it('downscales by the mean of each block, rounded half up in integers', async () => {
    // A 2×2 RGB image to 1×1: channel means 1.5 → 2, 2.5 → 3, 254.25 → 254.
    const tiny = new Uint8Array([1, 2, 255, 2, 3, 254, 1, 2, 254, 2, 3, 254]);
    expect(Array.from(downscale(tiny, { channels: 3, height: 2, width: 2 }, 2))).toEqual([2, 3, 254]);
    const png = decode(await encodeImage(rgb, rgbShape, { format: 'png', size: 32 }));
    expect(png).toMatchObject({ width: 32, height: 32, channels: 3 });
    expect(Buffer.from(png.data as Uint8Array).equals(Buffer.from(downscale(rgb, rgbShape, 2)))).toBe(true);
  });

  it('writes lossy WebP and JPEG close to the source pixels, smaller at a lower quality', async () => {
    for (const format of ['webp', 'jpeg'] as const) {
      const body = await encodeImage(rgb, rgbShape, targets(64, format));
      const { data, info } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
      expect([info.format, info.width, info.height, info.channels]).toEqual(['raw', 64, 64, 3]);
      const meanError = data.reduce((sum, value, i) => sum + Math.abs(value - rgb[i]!), 0) / data.length;
      expect(meanError).toBeGreaterThan(0);
      expect(meanError).toBeLessThan(8);
      const low = await encodeImage(rgb, rgbShape, { format, size: 64, quality: 20 });
      expect(low.byteLength).toBeLessThan(body.byteLength);
      // The default quality is the one named in the request the parser fills in.
      const unnamed = await encodeImage(rgb, rgbShape, { format, size: 64 });
      expect(Buffer.from(unnamed).equals(Buffer.from(body))).toBe(true);
    }
  });

  it('writes grayscale WebP and JPEG for a one-channel model', async () => {
    for (const format of ['webp', 'jpeg'] as const) {
      const meta = await sharp(await encodeImage(pixels, shape, targets(112, format))).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual([format, 112, 112]);
      if (format === 'jpeg') expect(meta.channels).toBe(1);
    }
  });

  it('writes the same bytes for the same request, whatever the number of libvips threads', async () => {
    const cases = IMAGE_FORMATS.flatMap((format) => [32, 64, 256].map((size) => ({ format, size })));
    const encodeAll = () => Promise.all(cases.map(({ format, size }) => encodeImage(rgb, rgbShape, targets(size, format))));
    sharp.concurrency(1);
    const one = await encodeAll();
    sharp.concurrency(8);
    const eight = await encodeAll();
    const again = await encodeAll();
    cases.forEach((c, i) => {
      expect(Buffer.from(eight[i]!).equals(Buffer.from(one[i]!)), `${c.format} ${c.size}`).toBe(true);
      expect(Buffer.from(again[i]!).equals(Buffer.from(one[i]!)), `${c.format} ${c.size}`).toBe(true);
    });
  });

  it('refuses sizes that are not whole multiples of the native width', () => {
    expect(() => scaleFactor(shape, 30)).toThrow(RangeError);
    expect(scaleFactor(shape, 224)).toEqual({ up: 8, down: 1 });
    expect(scaleFactor({ channels: 3, height: 256, width: 256 }, 64)).toEqual({ up: 1, down: 4 });
  });
});

describe('pixel threads', () => {
  it('give each of many concurrent jobs its own block means, on no more threads than asked for', async () => {
    const threads = new PixelThreads(2);
    try {
      const images = Array.from({ length: 12 }, (_, i) => photoLike(64).map((v) => (v + i * 11) & 255));
      const out = await Promise.all(images.map((image, i) => threads.run({ kind: 'downscale', pixels: image, shape: rgbShapeOf(64), divisor: i % 2 ? 2 : 4 })));
      out.forEach((result, i) => expect(Buffer.from(result).equals(Buffer.from(downscale(images[i]!, rgbShapeOf(64), i % 2 ? 2 : 4)))).toBe(true));
      expect((threads as unknown as { threads: unknown[] }).threads.length).toBe(2);
    } finally {
      await threads.close();
    }
  });

});

function rgbShapeOf(edge: number) {
  return { channels: 3, height: edge, width: edge };
}
