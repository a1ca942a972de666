// The digests every part keys and signs with: published test vectors, and the same answers as Web
// Crypto, which the runtimes without node:crypto (workerd) use.
import { describe, expect, it } from 'vitest';
import { hex, hmacSha256, hmacSha256Matches, sha256Hex } from './digest.js';

const encoder = new TextEncoder();

describe('digests', () => {
  it('SHA-256 matches FIPS 180-2 and Web Crypto', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const text = 'imf-image/1\n0123456789abcdef\n/v1/images/imf-mnist/3.png?seed=7 ü';
    expect(await sha256Hex(text)).toBe(hex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)))));
  });

  it('HMAC-SHA256 matches RFC 4231 and Web Crypto', async () => {
    expect(hex(await hmacSha256('Jefe', encoder.encode('what do ya want for nothing?')))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    const body = new Uint8Array(70_000).map((_, i) => i % 251);
    const key = await crypto.subtle.importKey('raw', encoder.encode('a secret'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    expect(hex(await hmacSha256('a secret', body))).toBe(hex(new Uint8Array(await crypto.subtle.sign('HMAC', key, body))));
  });

  it('HMAC-SHA256 of a message in parts is that of the parts joined', async () => {
    const head = encoder.encode('imf-integrity/2\n"k"\n');
    const body = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const whole = new Uint8Array([...head, ...body]);
    const mac = await hmacSha256('a secret', whole);
    expect(hex(await hmacSha256('a secret', [head, body]))).toBe(hex(mac));
    expect(hex(await hmacSha256('a secret', [head, new Uint8Array(0), body]))).toBe(hex(mac));
    expect(await hmacSha256Matches('a secret', [head, body], mac)).toBe(true);
    expect(await hmacSha256Matches('a secret', [body, head], mac)).toBe(false);
  });

  it('accepts only the exact MAC', async () => {
    const message = encoder.encode('message');
    const mac = new Uint8Array(await hmacSha256('k', message));
    expect(await hmacSha256Matches('k', message, mac)).toBe(true);
    const flipped = mac.slice();
    flipped[31]! ^= 1;
    expect(await hmacSha256Matches('k', message, flipped)).toBe(false);
    expect(await hmacSha256Matches('k', message, mac.slice(0, 31))).toBe(false);
    expect(await hmacSha256Matches('other', message, mac)).toBe(false);
  });
});
