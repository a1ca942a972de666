// The layered cache passes the cache contract, fills its near tier from the far one, and writes
// both tiers.
import { describe, expect, it } from 'vitest';
import { edgeCacheContract } from './contract.js';
import { layeredCache } from './layered.js';
import { memoryCache } from './memory.js';

const limits = { maxEntries: 100, maxBytes: 1 << 20 };
edgeCacheContract('layered (memory over memory)', () => layeredCache(memoryCache(limits), memoryCache(limits)));

const image = { body: new Uint8Array([137, 80, 78, 71, 9, 8, 7]), contentType: 'image/png' };

describe('layered cache', () => {
  it('answers a far hit and copies its bytes and type into the near tier', async () => {
    const near = memoryCache(limits);
    const far = memoryCache(limits);
    await far.put('k', image);
    const hit = await layeredCache(near, far).match('k');
    expect(hit && { type: hit.contentType, bytes: [...hit.body] }).toEqual({ type: 'image/png', bytes: [...image.body] });
    const copied = await near.match('k');
    expect(copied && { type: copied.contentType, bytes: [...copied.body] }).toEqual({ type: 'image/png', bytes: [...image.body] });
  });

  it('answers from the near tier without asking the far one', async () => {
    const near = memoryCache(limits);
    let farAsked = 0;
    const far = { match: async () => ((farAsked += 1), undefined), put: async () => {} };
    await near.put('k', image);
    expect((await layeredCache(near, far).match('k'))?.contentType).toBe('image/png');
    expect(farAsked).toBe(0);
  });

  it('puts into both tiers', async () => {
    const near = memoryCache(limits);
    const far = memoryCache(limits);
    await layeredCache(near, far).put('k', image);
    expect([...(await near.match('k'))!.body]).toEqual([...image.body]);
    expect([...(await far.match('k'))!.body]).toEqual([...image.body]);
  });
});
