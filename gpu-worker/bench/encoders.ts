// `npm run bench:encoders` (in gpu-worker/): bytes and CPU ms per image of each encoder setting
// the worker could use, one image at a time, on photo-like 256-px RGB pixels (smooth noise at four
// scales plus grain, as test/load/host-ceiling/build_model.py makes them) at 256, 512 and 1024 px.
// The defaults (ENCODER_SETTINGS, the contract's DEFAULT_QUALITY) were chosen from its table: the
// best bytes that stay under 40 ms of CPU per image at every size.
import sharp, { type Sharp } from 'sharp';
import { DEFAULT_QUALITY } from '@imf/contract';
import { ENCODER_SETTINGS } from '../src/encode/index.js';

const EDGE = 256;

/** Photo-like RGB: bilinear smooth noise at four scales (coarse dominating) and a little grain. */
function photoLike(): Uint8Array {
  let state = 20;
  const random = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const levels = new Float32Array(EDGE * EDGE * 3);
  for (const [cell, amplitude] of [[64, 90], [16, 50], [4, 20], [1, 8]] as const) {
    const n = EDGE / cell + 1;
    const grid = Float32Array.from({ length: n * n * 3 }, random);
    for (let y = 0; y < EDGE; y++) {
      for (let x = 0; x < EDGE; x++) {
        const fx = x / cell, fy = y / cell, x0 = Math.floor(fx), y0 = Math.floor(fy), tx = fx - x0, ty = fy - y0;
        for (let c = 0; c < 3; c++) {
          const at = (i: number, j: number) => grid[(j * n + i) * 3 + c]!;
          const top = at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx;
          const bottom = at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx;
          levels[(y * EDGE + x) * 3 + c]! += amplitude * (top * (1 - ty) + bottom * ty);
        }
      }
    }
  }
  return Uint8Array.from(levels, (v) => Math.max(0, Math.min(255, Math.round(128 + v))));
}

type Encode = (pipeline: Sharp) => Sharp;
const candidates: [string, Encode][] = [
  ['PNG level 6 (default)', (p) => p.png(ENCODER_SETTINGS.png)],
  ['PNG level 1', (p) => p.png({ ...ENCODER_SETTINGS.png, compressionLevel: 1 })],
  ['PNG level 9', (p) => p.png({ ...ENCODER_SETTINGS.png, compressionLevel: 9 })],
  [`WebP q${DEFAULT_QUALITY.webp} effort 0 (default)`, (p) => p.webp({ ...ENCODER_SETTINGS.webp, quality: DEFAULT_QUALITY.webp })],
  [`WebP q${DEFAULT_QUALITY.webp} effort 2`, (p) => p.webp({ ...ENCODER_SETTINGS.webp, quality: DEFAULT_QUALITY.webp, effort: 2 })],
  [`WebP q${DEFAULT_QUALITY.webp} effort 4`, (p) => p.webp({ ...ENCODER_SETTINGS.webp, quality: DEFAULT_QUALITY.webp, effort: 4 })],
  ['WebP q90 effort 0', (p) => p.webp({ ...ENCODER_SETTINGS.webp, quality: 90 })],
  ['WebP lossless effort 0', (p) => p.webp({ lossless: true, effort: 0 })],
  [`JPEG q${DEFAULT_QUALITY.jpeg} (default)`, (p) => p.jpeg({ ...ENCODER_SETTINGS.jpeg, quality: DEFAULT_QUALITY.jpeg })],
  ['JPEG q80', (p) => p.jpeg({ ...ENCODER_SETTINGS.jpeg, quality: 80 })],
  ['AVIF q50 effort 0', (p) => p.avif({ quality: 50, effort: 0 })],
];

const pixels = photoLike();
console.log(`| setting | size | KiB | CPU ms per image |\n|---|---:|---:|---:|`);
for (const size of [256, 512, 1024]) {
  for (const [name, encode] of candidates) {
    const image = () => encode(sharp(pixels, { raw: { width: EDGE, height: EDGE, channels: 3 } }).resize(size, size, { kernel: 'nearest' })).toBuffer();
    const bytes = (await image()).byteLength;
    const runs = size >= 1024 ? 5 : 15;
    const before = process.cpuUsage();
    for (let i = 0; i < runs; i++) await image();
    const cpu = process.cpuUsage(before);
    console.log(`| ${name} | ${size} | ${(bytes / 1024).toFixed(1)} | ${((cpu.user + cpu.system) / 1000 / runs).toFixed(1)} |`);
  }
}
