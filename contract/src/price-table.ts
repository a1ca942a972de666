// Written by `npm run bench:prices` (gpu-worker/bench/prices.ts); do not edit by hand. Milliseconds of
// worker CPU to encode and mark one 3-channel image, per format, at [output pixels, ms] points.
// Measured on: 2 × AMD EPYC, 24 GiB, node v20.20.2, load 0.63, 2026-12-03.
import type { ImageFormat } from './request.js';

export const ENCODE_CPU_MS: Readonly<Record<ImageFormat, readonly (readonly [pixels: number, ms: number])[]>> = {
  png: [[784, 0.79], [4096, 1], [65536, 6.24], [262144, 21.6], [1048576, 82.98]],
  webp: [[784, 0.96], [4096, 1.16], [65536, 3.22], [262144, 7.91], [1048576, 25.9]],
  jpeg: [[784, 0.73], [4096, 0.76], [65536, 1.5], [262144, 4.04], [1048576, 14.48]],
};
