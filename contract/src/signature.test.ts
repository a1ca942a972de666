// Signed URLs: valid until expiry, broken by any change, verifiable with every key of the ring.
import { describe, expect, it } from 'vitest';
import { parseSigningKeys, signPath, verifyPath } from './index.js';

const path = '/v1/images/m/1.png?guidance=3&tmin=0&tmax=1&seed=5&size=28';
const ring = parseSigningKeys('k2:second-secret-0123456789abcdef,k1:first-secret-0123456789abcdef');
const now = 1_800_000_000;

describe('signed URLs', () => {
  it('verifies a fresh signature and returns the unsigned path', async () => {
    const signed = await signPath(path, ring, now + 60);
    expect(signed).toMatch(/&exp=\d+&kid=k2&sig=[A-Za-z0-9_-]+$/);
    expect(await verifyPath(signed, ring, now)).toEqual({ ok: true, path, expires: now + 60, kid: 'k2' });
  });

  it('rejects a tampered query, expiry or signature', async () => {
    const signed = await signPath(path, ring, now + 60);
    expect(await verifyPath(signed.replace('seed=5', 'seed=6'), ring, now)).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyPath(signed.replace(`exp=${now + 60}`, `exp=${now + 6000}`), ring, now)).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyPath(signed.slice(0, -2) + (signed.endsWith('AA') ? 'BB' : 'AA'), ring, now)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('rejects an expired URL', async () => {
    const signed = await signPath(path, ring, now - 1);
    expect(await verifyPath(signed, ring, now)).toEqual({ ok: false, reason: 'expired' });
  });

  it('verifies URLs of an older key still in the ring (rotation)', async () => {
    const old = parseSigningKeys('k1:first-secret-0123456789abcdef');
    const signed = await signPath(path, old, now + 60);
    expect(await verifyPath(signed, ring, now)).toMatchObject({ ok: true, kid: 'k1' });
  });

  it('rejects a key id no longer in the ring', async () => {
    const retired = parseSigningKeys('k0:retired-secret-0123456789abcdef');
    const signed = await signPath(path, retired, now + 60);
    expect(await verifyPath(signed, ring, now)).toEqual({ ok: false, reason: 'unknown-kid' });
  });

  it('tells unsigned from malformed', async () => {
    expect(await verifyPath(path, ring, now)).toEqual({ ok: false, reason: 'unsigned' });
    expect(await verifyPath(`${path}&exp=1&sig=abc`, ring, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a malformed key ring', () => {
    expect(() => parseSigningKeys('no-colon')).toThrow();
    expect(() => parseSigningKeys('bad kid:secret')).toThrow();
  });
});
