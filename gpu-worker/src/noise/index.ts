// The noise generator `xoshiro128ss-boxmuller/1` (models/noise/SPEC.md): seed → N(0, 1) tensor of one
// image. The TypeScript twin of models/imf/core/noise.py; both assert models/noise/test-vectors.json.

/** The generator name a manifest must declare for this implementation to serve it. */
export const NOISE_GENERATOR = 'xoshiro128ss-boxmuller/1';

const TWO_POW_32 = 4294967296;

/** xoshiro128** with its state seeded by four SplitMix32 steps from a uint32 seed. */
export class Xoshiro128ss {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) throw new RangeError(`seed must be an unsigned 32-bit integer, got ${seed}`);
    let x = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      // Math.imul keeps the products exact modulo 2^32 (a float multiply would lose low bits).
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      words.push((z ^ (z >>> 16)) >>> 0);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
  }

  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ s1) >>> 0;
    this.s1 = (s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The four state words SplitMix32 makes from a seed (Xoshiro128ss's constructor, as plain numbers). */
function seedState(seed: number): [number, number, number, number] {
  const state = new Xoshiro128ss(seed) as unknown as { s0: number; s1: number; s2: number; s3: number };
  return [state.s0, state.s1, state.s2, state.s3];
}

/**
 * Writes `count` standard normals for `seed` into `out` at `offset` (float32 rounding happens on
 * store). Box–Muller in float64: u1 = (a + 1) / 2^32 ∈ (0, 1] so the log is finite, u2 = b / 2^32;
 * an odd count drops the last sine. xoshiro128** runs inline on int32 locals here (nextU32's steps,
 * unsigned only where a value leaves the generator): the same numbers at about 0.6 times the time,
 * which matters at 196,608 normals per 256-pixel RGB image.
 */
export function fillNormals(seed: number, out: Float32Array, offset = 0, count = out.length - offset): void {
  let [s0, s1, s2, s3] = seedState(seed);
  for (let i = 0; i < count; i += 2) {
    let rotated = Math.imul(s1, 5);
    const a = Math.imul((rotated << 7) | (rotated >>> 25), 9) >>> 0;
    let t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    rotated = Math.imul(s1, 5);
    const b = Math.imul((rotated << 7) | (rotated >>> 25), 9) >>> 0;
    t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    const r = Math.sqrt(-2 * Math.log((a + 1) / TWO_POW_32));
    const theta = 2 * Math.PI * (b / TWO_POW_32);
    out[offset + i] = r * Math.cos(theta);
    if (i + 1 < count) out[offset + i + 1] = r * Math.sin(theta);
  }
}
