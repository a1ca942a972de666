// Integrity tags on the objects this worker writes (contract/src/integrity.ts): each put carries an
// HMAC over the object key and bytes in its metadata, and each read checks it, so bytes that reached
// storage around the workers (the storage server's own ports) are neither served by this worker nor
// left in place: an object that fails its check is a miss, regenerated, and written over.
import { INTEGRITY_METADATA, integrityMatches, integrityTag } from '@imf/contract';
import type { ImageObject, ImageStore, PutOutcome, StoredImage } from './types.js';

/** `store` with integrity tags under `secret`; `onMismatch` hears of every object that fails its check. */
export function withIntegrity(store: ImageStore, secret: string, onMismatch: (objectKey: string, tagged: boolean) => void): ImageStore {
  // Keys whose stored object failed its check: the next put replaces it instead of keeping it.
  const failed = new Set<string>();
  return {
    kind: store.kind,
    ready: () => store.ready(),
    async get(objectKey): Promise<StoredImage | undefined> {
      const stored = await store.get(objectKey);
      if (!stored) return undefined;
      const tag = stored.metadata[INTEGRITY_METADATA];
      if (await integrityMatches(secret, objectKey, stored.body, tag)) return stored;
      if (failed.size > 10_000) failed.clear();
      failed.add(objectKey);
      onMismatch(objectKey, tag !== undefined);
      return undefined;
    },
    async putIfAbsent(objectKey, image: ImageObject): Promise<PutOutcome> {
      const tagged: ImageObject = { ...image, metadata: { ...image.metadata, [INTEGRITY_METADATA]: await integrityTag(secret, objectKey, image.body) } };
      if (failed.delete(objectKey) && store.replace) {
        await store.replace(objectKey, tagged);
        return 'created';
      }
      return store.putIfAbsent(objectKey, tagged);
    },
  };
}
