// Integrity tags on the objects this worker writes (contract/src/integrity.ts): each put carries an
// HMAC over the object key, bytes, content type and metadata in its metadata, and each read checks it, so bytes that reached
// storage around the workers (the storage server's own ports) are neither served by this worker nor
// left in place: an object that fails its check is a miss, regenerated, and written over.
import { INTEGRITY_METADATA, integrityMatches, integrityTag, type ImageObject, type ImageStore, type PutOutcome, type StoredObject } from '@imf/contract';

/** `store` with integrity tags under `secret`; `onMismatch` hears of every object that fails its check. */
export function withIntegrity(store: ImageStore, secret: string, onMismatch: (objectKey: string, tagged: boolean) => void): ImageStore {
  // Keys whose stored object failed its check: the next put replaces it instead of keeping it.
  const failed = new Set<string>();
  const withTag = async (objectKey: string, image: ImageObject): Promise<ImageObject> => ({
    ...image,
    metadata: { ...image.metadata, [INTEGRITY_METADATA]: await integrityTag(secret, objectKey, image) },
  });
  return {
    kind: store.kind,
    ready: () => store.ready(),
    async get(objectKey): Promise<StoredObject | undefined> {
      const stored = await store.get(objectKey);
      if (!stored) return undefined;
      const tag = stored.metadata[INTEGRITY_METADATA];
      if (await integrityMatches(secret, objectKey, stored)) return stored;
      if (failed.size > 10_000) failed.clear();
      failed.add(objectKey);
      onMismatch(objectKey, tag !== undefined);
      return undefined;
    },
    async putIfAbsent(objectKey, image: ImageObject): Promise<PutOutcome> {
      const tagged = await withTag(objectKey, image);
      if (failed.delete(objectKey)) {
        await store.replace(objectKey, tagged);
        return 'created';
      }
      return store.putIfAbsent(objectKey, tagged);
    },
    async replace(objectKey, image: ImageObject): Promise<void> {
      failed.delete(objectKey);
      await store.replace(objectKey, await withTag(objectKey, image));
    },
  };
}
