// The Workers Cache API adapter passes the cache contract inside workerd.
import { cacheApiCache } from './cache-api.js';
import { edgeCacheContract } from './contract.js';

edgeCacheContract('Cache API (workerd)', () => cacheApiCache(caches.default));
