// Prices follow the measured table: more pixels cost more, lossless WebP most, at least one token.
import { describe, expect, it } from 'vitest';
import { encodeCpuMs, generationTokens, IMAGE_FORMATS, MS_PER_TOKEN } from './index.js';
import { ENCODE_CPU_MS } from './price-table.js';

describe('generation prices', () => {
  it('costs more tokens for 1024 pixels than for 28, in every format, and never less than one', () => {
    for (const format of IMAGE_FORMATS) {
      expect(generationTokens(format, 28)).toBe(1);
      expect(generationTokens(format, 1024)).toBeGreaterThan(generationTokens(format, 28));
    }
  });

  it('reads the measured points exactly and interpolates between them in pixels', () => {
    const [[p0, ms0], [p1, ms1]] = [ENCODE_CPU_MS.webp[2]!, ENCODE_CPU_MS.webp[3]!];
    expect(encodeCpuMs('webp', Math.sqrt(p0))).toBeCloseTo(ms0);
    expect(encodeCpuMs('webp', Math.sqrt(p1))).toBeCloseTo(ms1);
    const between = Math.sqrt((p0 + p1) / 2);
    expect(encodeCpuMs('webp', between)).toBeCloseTo((ms0 + ms1) / 2);
    expect(generationTokens('webp', 1024)).toBe(Math.ceil(ENCODE_CPU_MS.webp.at(-1)![1] / MS_PER_TOKEN));
  });

  it('keeps the table in order of pixels, one point per measured size', () => {
    for (const format of IMAGE_FORMATS) {
      expect(ENCODE_CPU_MS[format].map(([pixels]) => pixels)).toEqual([28, 64, 256, 512, 1024].map((s) => s * s));
    }
  });
});
