// The three tiers behind every image: edge cache → object storage → GPU pool. A storage hit never
// reaches the pool; whatever answers is copied into the edge cache. Concurrent misses for one key
// in this isolate/process share one pool call.
import { canonicalPath, imageKey, objectKey, type ImageRequest, type WorkerImageRequest } from '@imf/contract';
import type { EdgeCache, StoredImage } from '../cache/types.js';
import type { ImageStore } from '../storage/types.js';
import type { PoolOutcome, WorkerPool } from '../pool/index.js';
import type { LogSink } from '../observability/index.js';
import { Memo } from '../cache/memo.js';

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
  | { ok: true; image: StoredImage; tier: Tier; key: string }
  | { ok: false; failure: Extract<PoolOutcome, { ok: false }>; key: string };

export function createImageSource(sources: TierSources) {
  const inflight = new Map<string, Promise<PoolOutcome>>();
  // SHA-256 per request is the largest cost of a cache hit on Node; the key is pure, so memoise it.
  const keys = new Memo<string>(10_000);

  async function keyOf(req: ImageRequest, modelVersion: string): Promise<string> {
    const memoKey = `${modelVersion}\n${canonicalPath(req)}`;
    let key = keys.get(memoKey);
    if (!key) {
      key = await imageKey(req, modelVersion);
      keys.set(memoKey, key);
    }
    return key;
  }

  const remember = (defer: Defer, key: string, image: StoredImage) =>
    defer(sources.cache.put(key, image).catch((error) => sources.log({ event: 'cache-put-failed', error: String(error) })));

  /** `knownKey`: the request's image key when the caller already has it (the hot GET path does). */
  async function lookup(req: ImageRequest, modelVersion: string, defer: Defer, knownKey?: string): Promise<ImageLookup> {
    const key = knownKey ?? (await keyOf(req, modelVersion));
    const cached = await sources.cache.match(key);
    if (cached) return { ok: true, image: cached, tier: 'edge-cache', key };

    const object = objectKey(req, modelVersion, key);
    if (sources.store) {
      try {
        const stored = await sources.store.get(object);
        if (stored) {
          remember(defer, key, stored);
          return { ok: true, image: stored, tier: 'storage', key };
        }
      } catch (error) {
        // A storage outage degrades to generating (the worker rewrites the object), not to a 5xx.
        sources.log({ event: 'storage-get-failed', key: key.slice(0, 12), error: String(error) });
      }
    }

    let pending = inflight.get(key);
    if (!pending) {
      const item: WorkerImageRequest = { request: req, modelVersion, key, objectKey: object };
      pending = sources.pool.generate(item).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const outcome = await pending;
    if (!outcome.ok) return { ok: false, failure: outcome, key };
    remember(defer, key, outcome.image);
    return { ok: true, image: outcome.image, tier: 'generated', key };
  }

  return { lookup, keyOf };
}
