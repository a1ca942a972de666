// The behaviour every ImageStore adapter must show, against its real backend: objects are written
// there by `write` (the GPU worker's part), and the adapter reads them.
import { describe, expect, it } from 'vitest';
import type { ImageStore } from '../types.js';
import type { ObjectWriter } from './test-objects.js';

export function imageStoreContract(name: string, make: () => { store: ImageStore; write: ObjectWriter } | Promise<{ store: ImageStore; write: ObjectWriter }>): void {
  describe(`ImageStore contract: ${name}`, () => {
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 255]);

    it('answers ready', async () => {
      expect(await (await make()).store.ready()).toBe(true);
    });

    it('misses an object never written', async () => {
      const { store } = await make();
      expect(await store.get(`images/test/v0/${crypto.randomUUID()}.png`)).toBeUndefined();
    });

    it('reads back the bytes and content type written', async () => {
      const { store, write } = await make();
      const key = `images/test/v0/${crypto.randomUUID()}.png`;
      await write(key, { body: png, contentType: 'image/png' });
      const object = await store.get(key);
      expect(object?.contentType).toBe('image/png');
      expect([...object!.body]).toEqual([...png]);
    });

    it('keeps objects apart by key', async () => {
      const { store, write } = await make();
      const a = `images/test/v0/${crypto.randomUUID()}.png`;
      const b = `images/test/v0/${crypto.randomUUID()}.webp`;
      await write(a, { body: png, contentType: 'image/png' });
      await write(b, { body: new Uint8Array([1, 2]), contentType: 'image/webp' });
      expect([...(await store.get(b))!.body]).toEqual([1, 2]);
      expect((await store.get(a))?.contentType).toBe('image/png');
    });
  });
}
