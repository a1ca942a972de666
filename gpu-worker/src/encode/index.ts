// Encoding: the model's 8-bit pixels (its graph rounds them) → PNG (fast-png: deterministic and
// fastest at native size), lossless WebP or JPEG (sharp), at the canonical request's size:
// nearest-neighbour upscaled by an integer factor, or downscaled by averaging whole blocks of pixels.
import { encode as encodePngBytes } from 'fast-png';
import sharp from 'sharp';
import type { ImageFormat } from '@imf/contract';

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** Nearest-neighbour upscale of H×W×C bytes by an integer factor: exact, so bytes stay deterministic. */
export function upscale(pixels: Uint8Array, shape: ImageShape, factor: number): Uint8Array {
  if (factor === 1) return pixels;
  const { channels, height, width } = shape;
  const outWidth = width * factor;
  const rowBytes = outWidth * channels;
  const out = new Uint8Array(height * factor * rowBytes);
  for (let y = 0; y < height; y++) {
    const row = out.subarray(y * factor * rowBytes, (y * factor + 1) * rowBytes);
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const value = pixels[(y * width + x) * channels + c]!;
        for (let k = 0; k < factor; k++) row[(x * factor + k) * channels + c] = value;
      }
    }
    for (let k = 1; k < factor; k++) out.set(row, (y * factor + k) * rowBytes);
  }
  return out;
}

/**
 * Downscale of H×W×C bytes by an integer divisor: each output pixel is the mean of its divisor ×
 * divisor block, rounded half up in integers, so the bytes are the same on every machine.
 */
export function downscale(pixels: Uint8Array, shape: ImageShape, divisor: number): Uint8Array {
  if (divisor === 1) return pixels;
  const { channels, height, width } = shape;
  const outHeight = Math.floor(height / divisor);
  const outWidth = Math.floor(width / divisor);
  const area = divisor * divisor;
  const out = new Uint8Array(outHeight * outWidth * channels);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let dy = 0; dy < divisor; dy++) {
          const row = ((y * divisor + dy) * width + x * divisor) * channels + c;
          for (let dx = 0; dx < divisor; dx++) sum += pixels[row + dx * channels]!;
        }
        out[(y * outWidth + x) * channels + c] = Math.floor((2 * sum + area) / (2 * area));
      }
    }
  }
  return out;
}

/** How the native image becomes the requested size: up by an integer factor, or down by an integer divisor. */
export function scaleFactor(shape: ImageShape, size: number): { up: number; down: number } {
  const up = size / shape.width;
  const down = shape.width / size;
  if (Number.isInteger(up) && up >= 1) return { up, down: 1 };
  if (Number.isInteger(down) && shape.height % down === 0) return { up: 1, down };
  throw new RangeError(`size ${size} is neither an integer multiple nor an integer divisor of the native width ${shape.width}`);
}

/** JPEG quality: high enough that a 256-pixel photo-like image shows no blocks, at a fifth of PNG's bytes. */
const JPEG_QUALITY = 90;

export async function encodeImage(nativePixels: Uint8Array, nativeShape: ImageShape, format: ImageFormat, size: number): Promise<Uint8Array> {
  const { up: factor, down } = scaleFactor(nativeShape, size);
  const shape = { ...nativeShape, height: nativeShape.height / down, width: nativeShape.width / down };
  const pixels = downscale(nativePixels, nativeShape, down);
  if (format === 'png') {
    const data = upscale(pixels, shape, factor);
    return encodePngBytes({ width: shape.width * factor, height: shape.height * factor, data, channels: shape.channels, depth: 8 });
  }
  // sharp writes RGB unless told the image is grayscale, at about twice the size.
  let pipeline = sharp(pixels, { raw: { width: shape.width, height: shape.height, channels: shape.channels as 1 | 3 | 4 } });
  if (factor > 1) pipeline = pipeline.resize(shape.width * factor, shape.height * factor, { kernel: 'nearest' });
  if (shape.channels === 1) pipeline = pipeline.toColourspace('b-w');
  // Effort 2 gives effort 4's bytes on digit images at half the time at 224×224 (measured here).
  const buffer = await (format === 'jpeg' ? pipeline.jpeg({ quality: JPEG_QUALITY }) : pipeline.webp({ lossless: true, effort: 2 })).toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
