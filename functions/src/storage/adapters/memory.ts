// In-memory object store for tests and for running the edge without storage: `objects` is where a
// test puts what the store then reads.
import type { ImageStore, StoredImage } from '../types.js';

export function memoryStore(): ImageStore & { objects: Map<string, StoredImage> } {
  const objects = new Map<string, StoredImage>();
  return {
    objects,
    async get(key) {
      return objects.get(key);
    },
    async ready() {
      return true;
    },
  };
}
