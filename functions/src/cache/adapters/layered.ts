// Two cache tiers as one: a small near cache (the isolate's memory) in front of a far one (the
// Cache API). A far hit is copied near; puts go to both. Saves a Cache API round trip for hot images.
import type { EdgeCache } from '../types.js';

export function layeredCache(near: EdgeCache, far: EdgeCache): EdgeCache {
  return {
    async match(key) {
      const hit = await near.match(key);
      if (hit) return hit;
      const farHit = await far.match(key);
      if (farHit) await near.put(key, farHit);
      return farHit;
    },
    async put(key, image) {
      await Promise.all([near.put(key, image), far.put(key, image)]);
    },
  };
}
