// The one way numbers appear in a canonical request: quantised to 0.001 and written in their
// shortest decimal form, so that "3", "3.0" and "3.0004" all name the same image.

/** Decimal places kept of guidance, t_min and t_max: the canonical grid is 10^-DECIMALS. */
const DECIMALS = 3;
// Rounding through the integer count of steps (x * 1000, round, / 1000) is exact for every value on
// the grid; multiplying by the step (0.001) instead would not be.
const STEPS_PER_UNIT = 10 ** DECIMALS;

/** Rounds to the canonical grid; -0 becomes 0 so it cannot produce a second key. */
export function quantize(value: number): number {
  const rounded = Math.round(value * STEPS_PER_UNIT) / STEPS_PER_UNIT;
  return rounded === 0 ? 0 : rounded;
}

/** The canonical text of a quantised number: shortest round-trip decimal, never an exponent. */
export function formatNumber(value: number): string {
  const text = String(quantize(value));
  // Below 1e-6 JS switches to exponent notation; quantised values never get there, but guard it.
  return text.includes('e') ? quantize(value).toFixed(DECIMALS).replace(/\.?0+$/, '') : text;
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Parses a plain decimal (no exponent, hex, or whitespace); undefined when it is not one. */
export function parseDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export const UINT32_MAX = 0xffff_ffff;

/** Parses an unsigned 32-bit seed written in decimal digits; undefined otherwise. */
export function parseSeed(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= UINT32_MAX ? value : undefined;
}

/** A fresh uniformly random uint32 seed from WebCrypto. */
export function freshSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
