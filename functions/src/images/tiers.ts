// The three tiers behind every image: edge cache → object storage → GPU pool. A storage hit never
// reaches the pool; whatever answers is copied into the edge cache. Concurrent misses for one key
// in this isolate/process share one pool call.
import { objectKey, type WorkerImageRequest } from '@imf/contract';
import type { EdgeCache, StoredImage } from '../cache/types.js';
import type { ImageStore } from '../storage/types.js';
import type { PoolOutcome, WorkerPool } from '../pool/index.js';
import type { LogSink } from '../observability/index.js';
import type { ResolvedImage } from './resolve.js';

export type Tier = 'edge-cache' | 'storage' | 'generated';

/** Response header naming the tier that answered. */
export const TIER_HEADER = 'x-image-tier';

export interface TierSources {
  cache: EdgeCache;
  store: ImageStore | undefined;
  pool: WorkerPool;
  log: LogSink;
}

/** Runs work after the response is sent (waitUntil on Workers; fire-and-forget on Node). */
export type Defer = (work: Promise<unknown>) => void;

export type ImageLookup =
  | { ok: true; image: StoredImage; tier: Tier }
  | { ok: false; failure: Extract<PoolOutcome, { ok: false }> };

export type LookupImage = (image: ResolvedImage, defer: Defer) => Promise<ImageLookup>;

export function createImageLookup(sources: TierSources): LookupImage {
  const inflight = new Map<string, Promise<PoolOutcome>>();

  const remember = (defer: Defer, key: string, image: StoredImage) =>
    defer(sources.cache.put(key, image).catch((error) => sources.log({ event: 'cache-put-failed', error: String(error) })));

  return async function lookup({ request, modelVersion, key }, defer) {
    const cached = await sources.cache.match(key);
    if (cached) return { ok: true, image: cached, tier: 'edge-cache' };

    const object = objectKey(request, modelVersion, key);
    if (sources.store) {
      try {
        const stored = await sources.store.get(object);
        if (stored) {
          remember(defer, key, stored);
          return { ok: true, image: stored, tier: 'storage' };
        }
      } catch (error) {
        // A storage outage degrades to generating (the worker rewrites the object), not to a 5xx.
        sources.log({ event: 'storage-get-failed', key: key.slice(0, 12), error: String(error) });
      }
    }

    let pending = inflight.get(key);
    if (!pending) {
      const item: WorkerImageRequest = { request, modelVersion, key, objectKey: object };
      pending = sources.pool.generate(item).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const outcome = await pending;
    if (!outcome.ok) return { ok: false, failure: outcome };
    remember(defer, key, outcome.image);
    return { ok: true, image: outcome.image, tier: 'generated' };
  };
}
