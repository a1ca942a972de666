// The edge cache: the first tier, keyed by image key. Adapters: the Cache API (Workers) and an
// in-process LRU (Node); both pass adapters/contract.ts.

export interface StoredImage {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

export interface EdgeCache {
  match(key: string): Promise<StoredImage | undefined>;
  put(key: string, image: StoredImage): Promise<void>;
}
