// The model's float image → 8-bit pixels, exactly as the Python reference rounds them. It runs in
// the pixel threads (pixel-threads.ts), off the worker's event loop.
import type { ImageShape } from './scale.js';

/** Rounds half to even, as torch.round does: the reference pixels were made with it. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * C×H×W floats in [-1, 1] → H×W×C bytes by round(clamp((x + 1) * 127.5, 0, 255)), each step in
 * float32 like the reference (torch on a float32 tensor), so a tie lands where it lands there.
 */
export function toPixels(image: Float32Array, shape: ImageShape): Uint8Array {
  const { channels, height, width } = shape;
  const plane = height * width;
  const out = new Uint8Array(plane * channels);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < plane; p++) {
      const x = Math.min(1, Math.max(-1, image[c * plane + p]!));
      const scaled = Math.fround(Math.fround(x + 1) * 127.5);
      out[p * channels + c] = Math.min(255, Math.max(0, roundHalfEven(scaled)));
    }
  }
  return out;
}
