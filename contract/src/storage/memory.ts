// The store in memory: for unit tests of logic around storage, and for running without a backend.
// `objects` is where a test looks at or plants what the store holds.
import { IMMUTABLE_CACHE_CONTROL } from '../image-key.js';
import type { ImageObject, ImageStore, StoredObject } from './types.js';

export function memoryStore(): ImageStore & { objects: Map<string, StoredObject> } {
  const objects = new Map<string, StoredObject>();
  // Copies in and out, as a real store would: a caller changing its bytes later changes nothing here.
  const copy = (image: ImageObject & { cacheControl?: string }): StoredObject => ({ ...image, body: image.body.slice(), metadata: { ...image.metadata } });
  return {
    kind: 'memory',
    objects,
    async get(objectKey) {
      const found = objects.get(objectKey);
      return found && copy(found);
    },
    async putIfAbsent(objectKey, image) {
      if (objects.has(objectKey)) return 'exists';
      objects.set(objectKey, copy({ ...image, cacheControl: IMMUTABLE_CACHE_CONTROL }));
      return 'created';
    },
    async replace(objectKey, image) {
      objects.set(objectKey, copy({ ...image, cacheControl: IMMUTABLE_CACHE_CONTROL }));
    },
    async ready() {
      return true;
    },
  };
}
