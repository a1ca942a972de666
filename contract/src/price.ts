// What a generation costs its caller: tokens in proportion to the worker CPU its output takes to
// encode and mark (format and output pixels, from the measured table in price-table.ts, written by
// `npm run bench:prices`), at least one. The edge charges it, /v1/models shows it, and the
// playground's budgets count in it; an image answered from a cache or storage is not a generation.
import { ENCODE_CPU_MS } from './price-table.js';
import type { ImageFormat } from './request.js';

/**
 * Worker CPU one token buys, in milliseconds: about what a native-size miss costs the whole stack
 * (4.7 ms in `npm run bench:stack`), rounded up, so the cheapest generation costs one token.
 */
export const MS_PER_TOKEN = 10;

/**
 * Milliseconds of worker CPU to encode and mark one `format` image of `size`×`size` pixels: the
 * measured table, linear in pixels between its points and beyond its ends.
 */
export function encodeCpuMs(format: ImageFormat, size: number): number {
  const points = ENCODE_CPU_MS[format];
  const pixels = size * size;
  let i = 1;
  while (i < points.length - 1 && points[i]![0] < pixels) i++;
  const [p0, ms0] = points[i - 1]!;
  const [p1, ms1] = points[i]!;
  return Math.max(0, ms0 + ((ms1 - ms0) * (pixels - p0)) / (p1 - p0));
}

/** Tokens one generated image costs: its CPU over MS_PER_TOKEN, rounded up, at least one. */
export function generationTokens(format: ImageFormat, size: number): number {
  return Math.max(1, Math.ceil(encodeCpuMs(format, size) / MS_PER_TOKEN));
}
