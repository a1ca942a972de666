// The R2 binding (Workers): the bucket the GPU worker writes through R2's S3 endpoint, read here.
import { INTEGRITY_METADATA } from '@imf/contract';
import type { ImageStore } from '../types.js';

export function r2Store(bucket: R2Bucket): ImageStore {
  return {
    async get(key) {
      const object = await bucket.get(key);
      if (!object) return undefined;
      // The worker writes through R2's S3 endpoint: its x-amz-meta-* headers are R2's custom metadata.
      const integrity = object.customMetadata?.[INTEGRITY_METADATA];
      return {
        body: new Uint8Array(await object.arrayBuffer()),
        contentType: object.httpMetadata?.contentType ?? 'application/octet-stream',
        ...(integrity !== undefined ? { integrity } : {}),
      };
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
