// Object storage for generated images, the port every part uses: the GPU workers write each image
// once under its object key (the write side) and the edge and the workers read it (the read side).
// Adapters: memory (here), the S3 API over node:http (./node/s3.ts) and files (./node/filesystem.ts)
// for Node; the S3 API over fetch and the R2 binding in the edge for workerd. Every adapter passes
// the one suite in ../testing/storage-contract.ts against its real backend.

/** An image as written: bytes, content type and the generation parameters stored with it. */
export interface ImageObject {
  body: Uint8Array;
  contentType: string;
  /**
   * Lowercase ASCII names and values (S3 user metadata, R2 custom metadata). The integrity tag
   * travels here, under INTEGRITY_METADATA.
   */
  metadata: Record<string, string>;
}

/** An image as read back: what was written, and the cache policy the store keeps with it, if any. */
export interface StoredObject extends ImageObject {
  /** Bytes of their own (never a view of shared memory), so they can go straight into a Response. */
  body: Uint8Array<ArrayBuffer>;
  cacheControl?: string;
}

/** 'created': this call wrote the object; 'exists': it was already there and was left untouched. */
export type PutOutcome = 'created' | 'exists';

/** The read side: what the edge needs. */
export interface ImageReader {
  /** 's3', 'r2', 'filesystem' or 'memory', for logs, metrics and /readyz. */
  readonly kind: string;
  /** The object, or undefined when there is none. Throws StorageError on an outage, never reports one as a miss. */
  get(objectKey: string): Promise<StoredObject | undefined>;
  /** Whether the store answers (for /readyz). */
  ready(): Promise<boolean>;
}

/** The write side: what the GPU workers need besides reading. */
export interface ImageWriter {
  /**
   * Writes the object once: an existing object is never replaced, and a failed write leaves no object
   * (not even a partial one). Throws StorageError when the write fails.
   */
  putIfAbsent(objectKey: string, image: ImageObject): Promise<PutOutcome>;
  /** Writes the object whether or not one exists: only for an object that failed its integrity check. */
  replace(objectKey: string, image: ImageObject): Promise<void>;
}

export interface ImageStore extends ImageReader, ImageWriter {}

/**
 * A storage call that failed: 'unavailable' (outage, timeout, refusal, an unexpected status) or
 * 'invalid-key' (a key the store cannot hold, e.g. one that leaves the filesystem store's root).
 */
export class StorageError extends Error {
  constructor(
    message: string,
    readonly reason: 'unavailable' | 'invalid-key' = 'unavailable',
    /** The HTTP status the store answered, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}
