// The TypeScript generator against the committed test vectors shared with the Python reference.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fillNormals, NOISE_GENERATOR, Xoshiro128ss } from './index.js';
import { NoiseThreads } from './noise-threads.js';

/** One image's noise, as the session fills it into its batch. */
function imageNoise(seed: number, [c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(c! * h! * w!);
  fillNormals(seed, out);
  return out;
}
import { repoPath } from '../../test/paths.js';

interface VectorCase {
  seed: number;
  first_u32: number[];
  first_normals: number[];
  sum: number;
  sum_of_squares: number;
}
const vectors = JSON.parse(readFileSync(repoPath('models/noise/test-vectors.json'), 'utf8')) as {
  generator: string;
  shape: [number, number, number];
  cases: VectorCase[];
};

describe(`noise generator ${NOISE_GENERATOR}`, () => {
  it('is the generator the test vectors describe', () => {
    expect(vectors.generator).toBe(NOISE_GENERATOR);
    expect(vectors.cases.length).toBeGreaterThan(0);
  });

  for (const c of vectors.cases) {
    describe(`seed ${c.seed}`, () => {
      it('draws exactly the same raw u32 words', () => {
        const rng = new Xoshiro128ss(c.seed);
        expect(c.first_u32.map(() => rng.nextU32())).toEqual(c.first_u32);
      });

      it('gives exactly the same float32 normals', () => {
        const noise = imageNoise(c.seed, vectors.shape);
        expect(Array.from(noise.subarray(0, c.first_normals.length))).toEqual(c.first_normals.map(Math.fround));
      });

      it('matches the sum and sum of squares of the whole image to 1e-3', () => {
        const noise = imageNoise(c.seed, vectors.shape);
        let sum = 0;
        let squares = 0;
        for (const v of noise) {
          sum += v;
          squares += v * v;
        }
        expect(Math.abs(sum - c.sum)).toBeLessThan(1e-3);
        expect(Math.abs(squares - c.sum_of_squares)).toBeLessThan(1e-3);
      });
    });
  }

  it('refuses a seed outside uint32', () => {
    expect(() => new Xoshiro128ss(-1)).toThrow(RangeError);
    expect(() => new Xoshiro128ss(2 ** 32)).toThrow(RangeError);
  });
});

describe('fillNormals', () => {
  it("gives Xoshiro128ss's own numbers through Box–Muller, for every seed shape (the inlined generator)", () => {
    for (const seed of [0, 1, 42, 2 ** 31, 4294967295]) {
      const rng = new Xoshiro128ss(seed);
      const expected = new Float32Array(1001);
      for (let i = 0; i < expected.length; i += 2) {
        const a = rng.nextU32();
        const b = rng.nextU32();
        const r = Math.sqrt(-2 * Math.log((a + 1) / 4294967296));
        expected[i] = r * Math.cos(2 * Math.PI * (b / 4294967296));
        if (i + 1 < expected.length) expected[i + 1] = r * Math.sin(2 * Math.PI * (b / 4294967296));
      }
      const got = new Float32Array(1001);
      fillNormals(seed, got);
      expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    }
  });
});

describe('noise threads', () => {
  it("fill a batch with each seed's own noise, as one loop would, split over the threads", async () => {
    const threads = new NoiseThreads(3);
    try {
      const seeds = [0, 7, 4294967295, 123456, 42, 99, 1];
      const imageSize = 3 * 16 * 16;
      const noise = await threads.fill(seeds, imageSize);
      const expected = new Float32Array(seeds.length * imageSize);
      seeds.forEach((seed, i) => fillNormals(seed, expected, i * imageSize, imageSize));
      expect(Buffer.from(noise.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      expect(Buffer.from((await threads.fill([42], imageSize)).buffer).equals(Buffer.from(expected.subarray(4 * imageSize, 5 * imageSize).slice().buffer))).toBe(true);
    } finally {
      await threads.close();
    }
  });
});
