// The in-process LRU passes the cache contract and evicts the least recently used entry.
import { describe, expect, it } from 'vitest';
import { edgeCacheContract } from './contract.js';
import { memoryCache } from './memory.js';

edgeCacheContract('memory LRU', () => memoryCache({ maxEntries: 100, maxBytes: 1 << 20 }));

describe('memory LRU', () => {
  const image = (n: number) => ({ body: new Uint8Array(n), contentType: 'image/png' });

  it('evicts the least recently used entry past its entry limit', async () => {
    const cache = memoryCache({ maxEntries: 2, maxBytes: 1 << 20 });
    await cache.put('a', image(1));
    await cache.put('b', image(1));
    await cache.match('a');
    await cache.put('c', image(1));
    expect(await cache.match('b')).toBeUndefined();
    expect(await cache.match('a')).toBeDefined();
  });

  it('evicts past its byte limit', async () => {
    const cache = memoryCache({ maxEntries: 100, maxBytes: 10 });
    await cache.put('a', image(6));
    await cache.put('b', image(6));
    expect(await cache.match('a')).toBeUndefined();
    expect(cache.size()).toBe(1);
  });
});
