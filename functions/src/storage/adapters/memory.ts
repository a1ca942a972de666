// In-memory object store for tests and for running the edge without storage: `objects` is where a
// test puts what the store then reads.
import type { ImageStore, StoredObject } from '../types.js';

export function memoryStore(): ImageStore & { objects: Map<string, StoredObject> } {
  const objects = new Map<string, StoredObject>();
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
