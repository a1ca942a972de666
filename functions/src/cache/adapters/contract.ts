// The behaviour every EdgeCache adapter must show; run against each adapter in its runtime.
import { describe, expect, it } from 'vitest';
import type { EdgeCache } from '../types.js';

export function edgeCacheContract(name: string, make: () => EdgeCache | Promise<EdgeCache>): void {
  describe(`EdgeCache contract: ${name}`, () => {
    const image = { body: new Uint8Array([137, 80, 78, 71, 1, 2, 3]), contentType: 'image/png' };

    it('misses a key never put', async () => {
      const cache = await make();
      expect(await cache.match(`missing-${crypto.randomUUID()}`)).toBeUndefined();
    });

    it('returns the bytes and content type that were put', async () => {
      const cache = await make();
      const key = crypto.randomUUID();
      await cache.put(key, image);
      const hit = await cache.match(key);
      expect(hit?.contentType).toBe('image/png');
      expect([...hit!.body]).toEqual([...image.body]);
    });

    it('keeps keys apart', async () => {
      const cache = await make();
      const a = crypto.randomUUID();
      const b = crypto.randomUUID();
      await cache.put(a, image);
      await cache.put(b, { body: new Uint8Array([1]), contentType: 'image/webp' });
      expect((await cache.match(a))?.contentType).toBe('image/png');
      expect((await cache.match(b))?.contentType).toBe('image/webp');
    });
  });
}
