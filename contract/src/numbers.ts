// The one way numbers appear in a canonical request: quantised to 0.001 and written in their
// shortest decimal form, so that "3", "3.0" and "3.0004" all name the same image.

/** Quantisation step of guidance, t_min and t_max. */
export const NUMBER_STEP = 0.001;

/** Rounds to the canonical 0.001 grid; -0 becomes 0 so it cannot produce a second key. */
export function quantize(value: number): number {
  const rounded = Math.round(value * 1000) / 1000;
  return rounded === 0 ? 0 : rounded;
}

/** The canonical text of a quantised number: shortest round-trip decimal, never an exponent. */
export function formatNumber(value: number): string {
  const text = String(quantize(value));
  // Below 1e-6 JS switches to exponent notation; quantised values never get there, but guard it.
  return text.includes('e') ? quantize(value).toFixed(3).replace(/\.?0+$/, '') : text;
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
