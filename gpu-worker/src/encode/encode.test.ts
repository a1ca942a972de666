// Encoding: pixels rounded exactly as the reference rounds them, exact integer upscaling, block-mean
// downscaling in the downscale threads, lossless PNG, lossy WebP and JPEG at the request's quality,
// and the same bytes for the same request whatever libvips' thread count.
import { decode } from 'fast-png';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUALITY, IMAGE_FORMATS, isLossy, type ImageFormat } from '@imf/contract';
import { PixelThreads } from './pixel-threads.js';
import { downscale, encodeImage, scaleFactor, toPixels, toPixelsOffLoop, type EncodeTarget } from './index.js';

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
  const pixels = toPixels(gradient(), shape);
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

  it('round floats to the same pixels as toPixels on the event loop would', async () => {
    const image = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i) * 1.1);
    const shape32 = rgbShapeOf(32);
    expect(Buffer.from(await toPixelsOffLoop(image, shape32)).equals(Buffer.from(toPixels(image, shape32)))).toBe(true);
  });
});

function rgbShapeOf(edge: number) {
  return { channels: 3, height: edge, width: edge };
}
