// The R2 binding (Workers): the bucket the GPU worker writes through R2's S3 endpoint, read here.
import type { ImageStore } from '../types.js';

export function r2Store(bucket: R2Bucket): ImageStore {
  return {
    async get(key) {
      const object = await bucket.get(key);
      if (!object) return undefined;
      return { body: new Uint8Array(await object.arrayBuffer()), contentType: object.httpMetadata?.contentType ?? 'application/octet-stream' };
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
