// The contract's digests in this runtime (the suite runs in workerd, which has no node:crypto, and on
// Node): the same vectors as contract/src/digest.test.ts, so keys and signatures agree everywhere.
import { hex, hmacSha256, hmacSha256Matches, sha256Hex } from '@imf/contract';
import { describe, expect, it } from 'vitest';

const encoder = new TextEncoder();

describe('digests in this runtime', () => {
  it('SHA-256 (FIPS 180-2) and HMAC-SHA256 (RFC 4231) give the published values', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const mac = await hmacSha256('Jefe', encoder.encode('what do ya want for nothing?'));
    expect(hex(mac)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(await hmacSha256Matches('Jefe', encoder.encode('what do ya want for nothing?'), new Uint8Array(mac))).toBe(true);
    expect(await hmacSha256Matches('Jefe', encoder.encode('what do ya want for nothing!'), new Uint8Array(mac))).toBe(false);
  });
});
