// Signed URLs: valid until expiry, broken by any change, verifiable with every key of the ring, and
// accepted in exactly one spelling.
import { describe, expect, it } from 'vitest';
import { parseSigningKeys, signPath, verifyPath, windowedExpiry } from './index.js';

const path = '/v1/images/m/1.png?guidance=3&tmin=0&tmax=1&seed=5&size=28';
const ring = parseSigningKeys('k2:second-secret-0123456789abcdef,k1:first-secret-0123456789abcdef');
const now = 1_800_000_000;
const signer = 'k.0123456789abcdef';

describe('signed URLs', () => {
  it('verifies a fresh signature and returns the unsigned path and the signer', async () => {
    const signed = await signPath(path, ring, now + 60, signer);
    expect(signed).toMatch(/&by=k\.0123456789abcdef&exp=\d+&kid=k2&sig=[A-Za-z0-9_-]{43}$/);
    expect(await verifyPath(signed, ring, now)).toEqual({ ok: true, path, expires: now + 60, kid: 'k2', signer });
  });

  it('rejects a tampered query, signer, expiry or signature', async () => {
    const signed = await signPath(path, ring, now + 60, signer);
    expect(await verifyPath(signed.replace('seed=5', 'seed=6'), ring, now)).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyPath(signed.replace(`by=${signer}`, 'by=p.someone-else'), ring, now)).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyPath(signed.replace(`exp=${now + 60}`, `exp=${now + 6000}`), ring, now)).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyPath(signed.slice(0, -2) + (signed.endsWith('AA') ? 'BB' : 'AA'), ring, now)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('accepts exactly one spelling: no leading zeros in exp, only the canonical base64url signature', async () => {
    const signed = await signPath(path, ring, now + 60, signer);
    expect((await verifyPath(signed, ring, now)).ok).toBe(true);
    for (const zeros of ['0', '00', '0000000']) {
      expect((await verifyPath(signed.replace(`exp=${now + 60}`, `exp=${zeros}${now + 60}`), ring, now)).ok).toBe(false);
    }
    // The 43rd character carries 4 bits of the MAC and 2 spare bits: four characters decode alike.
    const last = signed.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const index = alphabet.indexOf(last);
    const twins = [0, 1, 2, 3].map((spare) => alphabet[(index & ~3) | spare]!).filter((c) => c !== last);
    expect(twins).toHaveLength(3);
    for (const twin of twins) expect(await verifyPath(signed.slice(0, -1) + twin, ring, now)).toEqual({ ok: false, reason: 'tampered' });
    // Padding or a longer signature is not a spelling either.
    expect((await verifyPath(signed + '=', ring, now)).ok).toBe(false);
    expect((await verifyPath(signed + 'A', ring, now)).ok).toBe(false);
  });

  it('rejects an expired URL', async () => {
    const signed = await signPath(path, ring, now - 1, signer);
    expect(await verifyPath(signed, ring, now)).toEqual({ ok: false, reason: 'expired' });
  });

  it('verifies URLs of an older key still in the ring (rotation)', async () => {
    const old = parseSigningKeys('k1:first-secret-0123456789abcdef');
    const signed = await signPath(path, old, now + 60, signer);
    expect(await verifyPath(signed, ring, now)).toMatchObject({ ok: true, kid: 'k1' });
  });

  it('rejects a key id no longer in the ring', async () => {
    const retired = parseSigningKeys('k0:retired-secret-0123456789abcdef');
    const signed = await signPath(path, retired, now + 60, signer);
    expect(await verifyPath(signed, ring, now)).toEqual({ ok: false, reason: 'unknown-kid' });
  });

  it('tells unsigned from malformed, and a URL without its signer is malformed', async () => {
    expect(await verifyPath(path, ring, now)).toEqual({ ok: false, reason: 'unsigned' });
    expect(await verifyPath(`${path}&exp=1&sig=abc`, ring, now)).toEqual({ ok: false, reason: 'malformed' });
    const signed = await signPath(path, ring, now + 60, signer);
    expect(await verifyPath(signed.replace(`by=${signer}&`, ''), ring, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a malformed key ring and a signer that is not URL-safe', async () => {
    expect(() => parseSigningKeys('no-colon')).toThrow();
    expect(() => parseSigningKeys('bad kid:secret')).toThrow();
    await expect(signPath(path, ring, now, 'a&b=c')).rejects.toThrow();
  });

  it('rounds expiries up to a window: signings within one window share an expiry, and none lives less than asked', () => {
    const window = 3600;
    const start = Math.ceil(now / window) * window; // a window boundary
    expect(windowedExpiry(start - 3600 + 1, 3600, window)).toBe(start + 3600);
    expect(windowedExpiry(start + 1, 3600, window)).toBe(windowedExpiry(start + 3599, 3600, window));
    for (const at of [start, start + 1, start + 1800, start + 3599]) {
      const expires = windowedExpiry(at, 3600, window);
      expect(expires % window).toBe(0);
      expect(expires - at).toBeGreaterThanOrEqual(3600);
      expect(expires - at).toBeLessThan(3600 + window);
    }
    expect(windowedExpiry(now + 7, 60, 0)).toBe(now + 67);
  });
});
