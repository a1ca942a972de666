// Object storage for generated images: one contract, adapters for the S3 API and the local
// filesystem, and one shared suite (adapters/contract.ts) that every adapter passes against a real backend.

export interface ImageObject {
  body: Uint8Array;
  contentType: string;
  /** The generation parameters (lowercase ASCII names and values), stored with the object. */
  metadata: Record<string, string>;
}

export interface StoredImage extends ImageObject {
  cacheControl: string;
}

/** 'created': this call wrote the object; 'exists': it was already there and was left untouched. */
export type PutOutcome = 'created' | 'exists';

export interface ImageStore {
  /** 's3' or 'filesystem', for logs, metrics and /readyz. */
  readonly kind: string;
  /** The object, or undefined when there is none. Throws WorkerError('storage') on an outage. */
  get(objectKey: string): Promise<StoredImage | undefined>;
  /**
   * Writes the object once: an existing object is never replaced, and a failed write leaves no object
   * (not even a partial one). Throws WorkerError('storage') when the write fails.
   */
  putIfAbsent(objectKey: string, image: ImageObject): Promise<PutOutcome>;
  /**
   * Writes the object whether or not one exists: only for an object that failed its integrity check
   * (storage/integrity.ts). Stores that nothing but this worker can write need not have it.
   */
  replace?(objectKey: string, image: ImageObject): Promise<void>;
  /** Whether the store answers (for /readyz). */
  ready(): Promise<boolean>;
}
