// In-process LRU (Node): bounded by entry count and by bytes; a Map keeps insertion order, so
// re-inserting on every hit makes its first key the least recently used.
import type { EdgeCache, StoredImage } from '../types.js';

export function memoryCache(limits: { maxEntries: number; maxBytes: number }): EdgeCache & { size(): number } {
  const entries = new Map<string, StoredImage>();
  let bytes = 0;
  const evict = () => {
    while (entries.size > limits.maxEntries || bytes > limits.maxBytes) {
      const [oldest, image] = entries.entries().next().value!;
      entries.delete(oldest);
      bytes -= image.body.byteLength;
    }
  };
  return {
    async match(key) {
      const image = entries.get(key);
      if (!image) return undefined;
      entries.delete(key);
      entries.set(key, image);
      return image;
    },
    async put(key, image) {
      if (image.body.byteLength > limits.maxBytes) return;
      const previous = entries.get(key);
      if (previous) {
        bytes -= previous.body.byteLength;
        entries.delete(key);
      }
      entries.set(key, image);
      bytes += image.body.byteLength;
      evict();
    },
    size: () => entries.size,
  };
}
