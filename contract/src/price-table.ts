// Written by `npm run bench:prices` (gpu-worker/bench/prices.ts); do not edit by hand. Milliseconds of
// worker CPU to encode and mark one 3-channel image, per format, at [output pixels, ms] points.
// Measured on: 2 × AMD EPYC, 24 GiB, node v20.20.2, load 4.17, 2026-12-03.
import type { ImageFormat } from './request.js';

export const ENCODE_CPU_MS: Readonly<Record<ImageFormat, readonly (readonly [pixels: number, ms: number])[]>> = {
  png: [[784, 0.46], [4096, 0.76], [65536, 20.78], [262144, 52.74], [1048576, 190.83]],
  webp: [[784, 1.38], [4096, 2.69], [65536, 31.49], [262144, 136.07], [1048576, 518.64]],
  jpeg: [[784, 0.74], [4096, 0.85], [65536, 1.26], [262144, 3.53], [1048576, 11.49]],
};
