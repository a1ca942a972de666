// The storage port's behaviour as one suite that every adapter passes against its real backend:
// SeaweedFS through the S3 API (node:http on Node, fetch on Node and in workerd), the R2 binding in
// workerd, the filesystem and memory. Runs on Node and in workerd alike: web-standard APIs only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMMUTABLE_CACHE_CONTROL } from '../image-key.js';
import { INTEGRITY_METADATA } from '../integrity.js';
import type { ImageObject, ImageStore } from '../storage/types.js';

export interface StoreUnderTest {
  store: ImageStore;
  stop?(): Promise<void>;
}

const SIGNATURES = {
  'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  'image/webp': [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50],
  'image/jpeg': [0xff, 0xd8, 0xff],
} as const;

type ImageType = keyof typeof SIGNATURES;

/** An image of the type's signature and random bytes, so two images always differ. */
function image(contentType: ImageType = 'image/png'): ImageObject {
  const body = new Uint8Array([...SIGNATURES[contentType], ...crypto.getRandomValues(new Uint8Array(64))]);
  return {
    body,
    contentType,
    metadata: { model: 'imf-mnist', 'model-version': '0123456789abcdef', class: '7', guidance: '3', seed: '42', size: '28', [INTEGRITY_METADATA]: 'ab'.repeat(32) },
  };
}

const extensions: Record<ImageType, string> = { 'image/png': 'png', 'image/webp': 'webp', 'image/jpeg': 'jpeg' };
const freshKey = (contentType: ImageType = 'image/png') => `images/imf-mnist/0123456789abcdef/${crypto.randomUUID().replaceAll('-', '')}.${extensions[contentType]}`;
const bytes = (body: Uint8Array | undefined) => (body ? Array.from(body) : undefined);

export function describeStorageContract(name: string, start: () => Promise<StoreUnderTest>): void {
  describe(`storage contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: ImageStore;
    beforeAll(async () => {
      subject = await start();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.stop?.();
    });

    it('is ready', async () => {
      expect(await store.ready()).toBe(true);
    });

    it('has no object under a key never written', async () => {
      expect(await store.get(freshKey())).toBeUndefined();
    });

    it('gives back the exact bytes, content type, metadata and integrity tag it stored', async () => {
      const key = freshKey();
      const written = image();
      expect(await store.putIfAbsent(key, written)).toBe('created');
      const stored = await store.get(key);
      expect(bytes(stored?.body)).toEqual(bytes(written.body));
      expect(stored?.contentType).toBe('image/png');
      expect(stored?.metadata).toEqual(written.metadata);
      expect(stored?.metadata[INTEGRITY_METADATA]).toBe(written.metadata[INTEGRITY_METADATA]);
    });

    for (const contentType of Object.keys(SIGNATURES) as ImageType[]) {
      it(`keeps the content type ${contentType} and marks the object immutable for caches`, async () => {
        const key = freshKey(contentType);
        await store.putIfAbsent(key, image(contentType));
        const stored = await store.get(key);
        expect(stored?.contentType).toBe(contentType);
        expect(stored?.cacheControl).toBe(IMMUTABLE_CACHE_CONTROL);
      });
    }

    it('keeps objects under different keys apart', async () => {
      const [a, b] = [freshKey(), freshKey('image/webp')];
      const [imageA, imageB] = [image(), image('image/webp')];
      await Promise.all([store.putIfAbsent(a, imageA), store.putIfAbsent(b, imageB)]);
      expect(bytes((await store.get(a))?.body)).toEqual(bytes(imageA.body));
      expect(bytes((await store.get(b))?.body)).toEqual(bytes(imageB.body));
      expect((await store.get(b))?.contentType).toBe('image/webp');
    });

    it('writes once: a second put under the same key answers "exists" and leaves the first object untouched', async () => {
      const key = freshKey();
      const first = image();
      expect(await store.putIfAbsent(key, first)).toBe('created');
      expect(await store.putIfAbsent(key, image())).toBe('exists');
      expect(bytes((await store.get(key))?.body)).toEqual(bytes(first.body));
    });

    it('lets exactly one of several concurrent writers of a key create it, and keeps its bytes', async () => {
      const key = freshKey();
      const images = [image(), image(), image(), image()];
      const outcomes = await Promise.all(images.map((each) => store.putIfAbsent(key, each)));
      expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(1);
      const winner = images[outcomes.indexOf('created')]!;
      expect(bytes((await store.get(key))?.body)).toEqual(bytes(winner.body));
    });

    it('replaces an existing object whole: bytes, content type and metadata', async () => {
      const key = freshKey();
      await store.putIfAbsent(key, image());
      const replacement = { ...image('image/webp'), metadata: { model: 'imf-mnist' } };
      await store.replace(key, replacement);
      const stored = await store.get(key);
      expect(bytes(stored?.body)).toEqual(bytes(replacement.body));
      expect(stored?.contentType).toBe('image/webp');
      expect(stored?.metadata).toEqual({ model: 'imf-mnist' });
    });

    it('replaces under a key never written, as a plain write', async () => {
      const key = freshKey();
      const written = image();
      await store.replace(key, written);
      expect(bytes((await store.get(key))?.body)).toEqual(bytes(written.body));
    });
  });
}
