// The R2 binding (Workers): the bucket the GPU workers write through R2's S3 endpoint (their
// x-amz-meta-* headers are R2's custom metadata), read here; the write side serves tests and tools.
import { IMMUTABLE_CACHE_CONTROL, type ImageObject, type ImageStore } from '@imf/contract';

function put(bucket: R2Bucket, objectKey: string, image: ImageObject, onlyIf?: R2Conditional) {
  return bucket.put(objectKey, image.body, {
    httpMetadata: { contentType: image.contentType, cacheControl: IMMUTABLE_CACHE_CONTROL },
    customMetadata: image.metadata,
    ...(onlyIf ? { onlyIf } : {}),
  });
}

export function r2Store(bucket: R2Bucket): ImageStore {
  return {
    kind: 'r2',
    async get(objectKey) {
      const object = await bucket.get(objectKey);
      if (!object) return undefined;
      return {
        body: new Uint8Array(await object.arrayBuffer()),
        contentType: object.httpMetadata?.contentType ?? 'application/octet-stream',
        metadata: { ...object.customMetadata },
        ...(object.httpMetadata?.cacheControl ? { cacheControl: object.httpMetadata.cacheControl } : {}),
      };
    },
    async putIfAbsent(objectKey, image) {
      // R2 answers a failed precondition with null instead of an object: the key was taken.
      return (await put(bucket, objectKey, image, { etagDoesNotMatch: '*' })) ? 'created' : 'exists';
    },
    async replace(objectKey, image) {
      await put(bucket, objectKey, image);
    },
    async ready() {
      try {
        await bucket.head('readyz-probe');
        return true;
      } catch {
        return false;
      }
    },
  };
}
