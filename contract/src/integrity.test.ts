// Integrity tags: the writer's tag verifies; other bytes, another content type or metadata field,
// another object key, another secret, a missing or malformed tag do not.
import { describe, expect, it } from 'vitest';
import { INTEGRITY_METADATA, integrityMatches, integrityTag } from './index.js';

const secret = 'integrity-secret-0123456789abcdef';
const key = 'images/imf-mnist/v1/abc.png';
const object = { body: new Uint8Array([137, 80, 78, 71, 1, 2, 3]), contentType: 'image/png', metadata: { model: 'imf-mnist', class: '3', seed: '7' } };

describe('integrity tags', () => {
  it('sign the documented message, the head and then the bytes, so stored objects keep verifying', async () => {
    const head = `imf-integrity/2\n"${key}"\n"image/png"\n"class"="3"\n"model"="imf-mnist"\n"seed"="7"\n\n`;
    const whole = new Uint8Array([...new TextEncoder().encode(head), ...object.body]);
    const hmac = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const expected = Buffer.from(await crypto.subtle.sign('HMAC', hmac, whole)).toString('hex');
    expect(await integrityTag(secret, key, object)).toBe(expected);
  });

  it('verifies the tag written for the same key, bytes, content type and metadata', async () => {
    const tag = await integrityTag(secret, key, object);
    expect(tag).toMatch(/^[0-9a-f]{64}$/);
    expect(await integrityMatches(secret, key, object, tag)).toBe(true);
    // As read back: the tag among the metadata, the fields in another order.
    expect(await integrityMatches(secret, key, { ...object, metadata: { seed: '7', [INTEGRITY_METADATA]: tag, class: '3', model: 'imf-mnist' } })).toBe(true);
  });

  it('refuses other bytes, another content type, a changed, added or removed field, another key or secret', async () => {
    const tag = await integrityTag(secret, key, object);
    expect(await integrityMatches(secret, key, { ...object, body: new Uint8Array([137, 80, 78, 71, 1, 2, 4]) }, tag)).toBe(false);
    expect(await integrityMatches(secret, key, { ...object, contentType: 'text/html' }, tag)).toBe(false);
    expect(await integrityMatches(secret, key, { ...object, metadata: { ...object.metadata, class: '4' } }, tag)).toBe(false);
    expect(await integrityMatches(secret, key, { ...object, metadata: { ...object.metadata, quality: '90' } }, tag)).toBe(false);
    expect(await integrityMatches(secret, key, { ...object, metadata: { model: 'imf-mnist', class: '3' } }, tag)).toBe(false);
    expect(await integrityMatches(secret, key.replace('abc', 'abd'), object, tag)).toBe(false);
    expect(await integrityMatches('another-secret-0123456789abcdef', key, object, tag)).toBe(false);
  });

  it('keeps fields apart: one field cannot pass for two', async () => {
    const tag = await integrityTag(secret, key, { ...object, metadata: { a: '1\n"b"="2"' } });
    expect(await integrityMatches(secret, key, { ...object, metadata: { a: '1', b: '2' } }, tag)).toBe(false);
  });

  it('refuses a missing or malformed tag', async () => {
    const tag = await integrityTag(secret, key, object);
    for (const bad of [undefined, null, '', tag.toUpperCase(), tag.slice(1), `${tag}0`]) expect(await integrityMatches(secret, key, object, bad)).toBe(false);
  });
});
