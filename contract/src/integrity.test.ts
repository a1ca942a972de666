// Integrity tags: the writer's tag verifies; other bytes, another object key, another secret, a
// missing or malformed tag do not.
import { describe, expect, it } from 'vitest';
import { integrityMatches, integrityTag } from './index.js';

const secret = 'integrity-secret-0123456789abcdef';
const key = 'images/imf-mnist/v1/abc.png';
const body = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);

describe('integrity tags', () => {
  it('verifies the tag written for the same key and bytes', async () => {
    const tag = await integrityTag(secret, key, body);
    expect(tag).toMatch(/^[0-9a-f]{64}$/);
    expect(await integrityMatches(secret, key, body, tag)).toBe(true);
  });

  it('refuses other bytes, another key, another secret, and a missing or malformed tag', async () => {
    const tag = await integrityTag(secret, key, body);
    expect(await integrityMatches(secret, key, new Uint8Array([137, 80, 78, 71, 1, 2, 4]), tag)).toBe(false);
    expect(await integrityMatches(secret, key.replace('abc', 'abd'), body, tag)).toBe(false);
    expect(await integrityMatches('another-secret-0123456789abcdef', key, body, tag)).toBe(false);
    for (const bad of [undefined, null, '', tag.toUpperCase(), tag.slice(1), `${tag}0`]) expect(await integrityMatches(secret, key, body, bad)).toBe(false);
  });
});
