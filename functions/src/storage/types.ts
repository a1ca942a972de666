// Object storage, the second tier: the GPU worker writes each image under its object key and the
// edge only reads it. Adapters: R2 binding (Workers), the S3 API via aws4fetch (Node, local dev, any
// S3-compatible server) and memory (tests); all pass adapters/contract.ts.
import type { StoredImage } from '../cache/types.js';

export type { StoredImage };

/** An object as storage returns it: the image and the integrity tag the worker stored with it, if any. */
export interface StoredObject extends StoredImage {
  integrity?: string;
}

export interface ImageStore {
  /** The object, or undefined when it does not exist. Throws on an outage. */
  get(objectKey: string): Promise<StoredObject | undefined>;
  /** Whether the store answers at all (for /readyz). */
  ready(): Promise<boolean>;
}
