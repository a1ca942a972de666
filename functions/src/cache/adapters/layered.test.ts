// The layered cache passes the cache contract and fills its near tier from the far one.
import { describe, expect, it } from 'vitest';
import { edgeCacheContract } from './contract.js';
import { layeredCache } from './layered.js';
import { memoryCache } from './memory.js';

const limits = { maxEntries: 100, maxBytes: 1 << 20 };
edgeCacheContract('layered (memory over memory)', () => layeredCache(memoryCache(limits), memoryCache(limits)));

describe('layered cache', () => {
  it('copies a far hit into the near tier', async () => {
    const near = memoryCache(limits);
    const far = memoryCache(limits);
    await far.put('k', { body: new Uint8Array([1]), contentType: 'image/png' });
    expect(await layeredCache(near, far).match('k')).toBeDefined();
    expect(await near.match('k')).toBeDefined();
  });
});
