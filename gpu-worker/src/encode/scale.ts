// The integer scalings behind `size`: how the native image becomes the requested edge, and the
// block-mean downscale (integer arithmetic, so its bytes are the same on every machine). It runs
// in the pixel threads (pixel-threads.ts); upscaling is libvips' nearest-neighbour zoom.
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
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
