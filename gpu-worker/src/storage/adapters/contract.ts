// The ImageStore contract as one suite that every adapter must pass, each against a real backend
// (the filesystem; a real S3-compatible server). Adapter files call describeImageStoreContract.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMMUTABLE_CACHE_CONTROL } from '@imf/contract';
import type { ImageObject, ImageStore } from '../types.js';

export interface StoreUnderTest {
  store: ImageStore;
  stop(): Promise<void>;
}

function png(marker: number): ImageObject {
  // A valid PNG signature followed by a marker, so two bodies differ.
  const body = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, marker, ...randomBytes(64)]);
  return {
    body,
    contentType: 'image/png',
    metadata: { model: 'imf-mnist', 'model-version': '0123456789abcdef', class: '7', guidance: '3', tmin: '0', tmax: '1', seed: '42', size: '28' },
  };
}

const freshKey = (format = 'png') => `images/imf-mnist/0123456789abcdef/${randomBytes(32).toString('hex')}.${format}`;

export function describeImageStoreContract(name: string, start: () => Promise<StoreUnderTest>): void {
  describe(`ImageStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: ImageStore;
    beforeAll(async () => {
      subject = await start();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.stop();
    });

    it('is ready', async () => {
      expect(await store.ready()).toBe(true);
    });

    it('has no object under a key never written', async () => {
      expect(await store.get(freshKey())).toBeUndefined();
    });

    it('gives back the exact bytes, content type and metadata it stored', async () => {
      const key = freshKey();
      const image = png(1);
      expect(await store.putIfAbsent(key, image)).toBe('created');
      const stored = await store.get(key);
      expect(stored).toBeDefined();
      expect(Buffer.from(stored!.body).equals(Buffer.from(image.body))).toBe(true);
      expect(stored!.contentType).toBe('image/png');
      expect(stored!.metadata).toEqual(image.metadata);
    });

    it('marks every object immutable for caches', async () => {
      const key = freshKey('webp');
      await store.putIfAbsent(key, { ...png(2), contentType: 'image/webp' });
      const stored = await store.get(key);
      expect(stored!.cacheControl).toBe(IMMUTABLE_CACHE_CONTROL);
      expect(stored!.contentType).toBe('image/webp');
    });

    it('writes once: a second put under the same key leaves the first object untouched', async () => {
      const key = freshKey();
      const first = png(3);
      expect(await store.putIfAbsent(key, first)).toBe('created');
      expect(await store.putIfAbsent(key, png(4))).toBe('exists');
      const stored = await store.get(key);
      expect(Buffer.from(stored!.body).equals(Buffer.from(first.body))).toBe(true);
    });

    it('lets exactly one of several concurrent writers of a key create it', async () => {
      const key = freshKey();
      const images = [png(5), png(6), png(7), png(8)];
      const outcomes = await Promise.all(images.map((image) => store.putIfAbsent(key, image)));
      expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
      const stored = await store.get(key);
      const winner = images[outcomes.indexOf('created')]!;
      expect(Buffer.from(stored!.body).equals(Buffer.from(winner.body))).toBe(true);
    });

    it('keeps objects under different keys apart', async () => {
      const [a, b] = [freshKey(), freshKey()];
      const [imageA, imageB] = [png(9), png(10)];
      await Promise.all([store.putIfAbsent(a, imageA), store.putIfAbsent(b, imageB)]);
      expect(Buffer.from((await store.get(a))!.body).equals(Buffer.from(imageA.body))).toBe(true);
      expect(Buffer.from((await store.get(b))!.body).equals(Buffer.from(imageB.body))).toBe(true);
    });
  });
}
