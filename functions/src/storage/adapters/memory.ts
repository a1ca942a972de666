// In-memory object store for tests and for running the edge without storage.
import type { ImageStore, StoredImage } from '../types.js';

export function memoryStore(): ImageStore & { objects: Map<string, StoredImage> } {
  const objects = new Map<string, StoredImage>();
  return {
    objects,
    async get(key) {
      return objects.get(key);
    },
    async put(key, image) {
      objects.set(key, { body: image.body.slice(), contentType: image.contentType });
    },
    async ready() {
      return true;
    },
  };
}
