// Storage loss that heals: an object the store has a record of but cannot produce (S3 answers 5xx
// for its key: its volume was deleted or lost) is a miss here, so the worker regenerates the image,
// and the regenerated image is written over the broken record, since a write-once put would keep it.
// A store that does not answer at all (no status) stays an outage: rendering for it would be wasted.
import { StorageError, type ImageObject, type ImageStore, type PutOutcome, type StoredObject } from '@imf/contract';

/** `store` with unreadable objects regenerated; `onUnreadable` hears of each (for the log and a metric). */
export function withRepair(store: ImageStore, onUnreadable: (objectKey: string, error: StorageError) => void): ImageStore {
  // Keys whose object could not be read: the next put replaces the broken record.
  const unreadable = new Set<string>();
  return {
    kind: store.kind,
    ready: () => store.ready(),
    async get(objectKey): Promise<StoredObject | undefined> {
      try {
        return await store.get(objectKey);
      } catch (error) {
        if (!(error instanceof StorageError) || error.reason !== 'unavailable' || error.status === undefined || error.status < 500) throw error;
        if (unreadable.size > 10_000) unreadable.clear();
        unreadable.add(objectKey);
        onUnreadable(objectKey, error);
        return undefined;
      }
    },
    async putIfAbsent(objectKey, image: ImageObject): Promise<PutOutcome> {
      if (unreadable.delete(objectKey)) {
        await store.replace(objectKey, image);
        return 'created';
      }
      return store.putIfAbsent(objectKey, image);
    },
    async replace(objectKey, image: ImageObject): Promise<void> {
      unreadable.delete(objectKey);
      await store.replace(objectKey, image);
    },
  };
}
