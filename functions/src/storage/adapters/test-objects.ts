// Objects planted straight into a storage backend, for tests: the edge only reads storage (the GPU
// worker writes it), so a test that needs an object in place writes it through the port's write side.
import { INTEGRITY_METADATA, type ImageWriter } from '@imf/contract';
import type { StoredImage } from '../../cache/types.js';
import { fetchS3Store, type FetchS3Options } from './s3.js';

/** Writes one object (with its integrity tag, if given) where the edge will look for it. */
export type ObjectWriter = (objectKey: string, image: StoredImage & { integrity?: string }) => Promise<void>;

/** Writes through any store's write side (in workerd: `objectWriter(r2Store(env.IMAGES))`). */
export function objectWriter(store: ImageWriter): ObjectWriter {
  return (objectKey, { body, contentType, integrity }) =>
    store.replace(objectKey, { body, contentType, metadata: integrity !== undefined ? { [INTEGRITY_METADATA]: integrity } : {} });
}

/** PUTs objects through the S3 API, as the worker does. */
export const s3ObjectWriter = (location: FetchS3Options): ObjectWriter => objectWriter(fetchS3Store(location));
