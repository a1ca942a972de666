// The Workers Cache API (per data centre). Entries are stored under a synthetic URL per image key
// with an immutable Cache-Control, since an image key always names the same bytes.
import { IMMUTABLE_CACHE_CONTROL } from '@imf/contract';
import type { EdgeCache } from '../types.js';

const ORIGIN = 'https://edge-cache.imf.internal/images/';

export function cacheApiCache(cache: Cache): EdgeCache {
  return {
    async match(key) {
      const hit = await cache.match(ORIGIN + key);
      if (!hit) return undefined;
      return { body: new Uint8Array(await hit.arrayBuffer()), contentType: hit.headers.get('content-type') ?? 'application/octet-stream' };
    },
    async put(key, image) {
      await cache.put(
        ORIGIN + key,
        new Response(image.body, { headers: { 'content-type': image.contentType, 'cache-control': IMMUTABLE_CACHE_CONTROL } }),
      );
    },
  };
}
