// The behaviour every ImageStore adapter must show, against its real backend.
import { describe, expect, it } from 'vitest';
import type { ImageStore } from '../types.js';

export function imageStoreContract(name: string, make: () => ImageStore | Promise<ImageStore>): void {
  describe(`ImageStore contract: ${name}`, () => {
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 255]);

    it('answers ready', async () => {
      expect(await (await make()).ready()).toBe(true);
    });

    it('misses an object never written', async () => {
      const store = await make();
      expect(await store.get(`images/test/v0/${crypto.randomUUID()}.png`)).toBeUndefined();
    });

    it('reads back the bytes and content type written', async () => {
      const store = await make();
      const key = `images/test/v0/${crypto.randomUUID()}.png`;
      await store.put(key, { body: png, contentType: 'image/png' });
      const object = await store.get(key);
      expect(object?.contentType).toBe('image/png');
      expect([...object!.body]).toEqual([...png]);
    });

    it('overwrites an object with the same key', async () => {
      const store = await make();
      const key = `images/test/v0/${crypto.randomUUID()}.webp`;
      await store.put(key, { body: png, contentType: 'image/webp' });
      await store.put(key, { body: new Uint8Array([1, 2]), contentType: 'image/webp' });
      expect([...(await store.get(key))!.body]).toEqual([1, 2]);
    });
  });
}
