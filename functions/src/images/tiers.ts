// The three tiers behind every image: edge cache → object storage → GPU pool. A storage hit never
// reaches the pool; whatever answers is copied into the edge cache. Concurrent misses for one key
// in this isolate/process share one pool call, which tells the worker when storage was just found
// empty (a miss costs two storage calls: this lookup and the worker's put). With an integrity key,
// a stored object counts only when its tag matches its key and bytes: anything else (bytes written
// around the workers, through the storage server's own ports) is a miss, logged and counted, and
// is never served or cached.
import { INTEGRITY_METADATA, integrityMatches, findModel, modelTimeAllowanceMs, objectKey, type ModelRegistry, type WorkerImageRequest } from '@imf/contract';
import type { EdgeCache, StoredImage } from '../cache/types.js';
import type { ImageReader } from '@imf/contract';
import type { PoolOutcome, WorkerPool } from '../pool/index.js';
import type { LogSink } from '../observability/index.js';
import type { ResolvedImage } from './resolve.js';

export type Tier = 'edge-cache' | 'storage' | 'generated';

/** Response header naming the tier that answered. */
export const TIER_HEADER = 'x-image-tier';

export interface TierSources {
  cache: EdgeCache;
  store: ImageReader | undefined;
  pool: WorkerPool;
  log: LogSink;
  /** STORAGE_INTEGRITY_KEY: when set, stored objects must carry its tag. */
  integrityKey?: string | undefined;
  /** Counts what operators watch (read by /readyz). */
  counters?: EdgeCounters;
  /** The served models: a model's measured time per image lengthens the pool's deadline for it. */
  registry?: ModelRegistry;
}

/** The edge's counters: per process on Node, per isolate on Workers (where the log line is the signal). */
export interface EdgeCounters {
  storageIntegrityFailures: number;
}

/**
 * Asked once before a miss goes to the pool: undefined to go on, or the response that refuses the
 * generation (a signer's spent budget, a playground that only shows stored images).
 */
export type AdmitGeneration = () => Promise<Response | undefined>;

/** Runs work after the response is sent (waitUntil on Workers; fire-and-forget on Node). */
export type Defer = (work: Promise<unknown>) => void;

export type ImageLookup =
  | { ok: true; image: StoredImage; tier: Tier }
  | { ok: false; failure: Extract<PoolOutcome, { ok: false }> }
  | { ok: false; refused: Response };

export type LookupImage = (image: ResolvedImage, defer: Defer, admit?: AdmitGeneration) => Promise<ImageLookup>;

export function createImageLookup(sources: TierSources): LookupImage {
  const inflight = new Map<string, Promise<PoolOutcome>>();

  const remember = (defer: Defer, key: string, image: StoredImage) =>
    defer(sources.cache.put(key, image).catch((error) => sources.log({ event: 'cache-put-failed', error: String(error) })));

  return async function lookup({ request, modelVersion, key }, defer, admit) {
    const cached = await sources.cache.match(key);
    if (cached) return { ok: true, image: cached, tier: 'edge-cache' };

    const object = objectKey(request, modelVersion, key);
    // Set only when storage answered that there is no object: the worker then skips its own lookup.
    // An outage or an object failing its check leaves it unset, so the worker looks (and repairs).
    let storageChecked = false;
    if (sources.store) {
      try {
        const stored = await sources.store.get(object);
        if (!stored) storageChecked = true;
        if (stored && (sources.integrityKey === undefined || (await integrityMatches(sources.integrityKey, object, stored)))) {
          const image = { body: stored.body, contentType: stored.contentType };
          remember(defer, key, image);
          return { ok: true, image, tier: 'storage' };
        }
        if (stored) {
          if (sources.counters) sources.counters.storageIntegrityFailures++;
          sources.log({ event: 'storage-integrity-mismatch', key: key.slice(0, 12), object, tagged: stored.metadata[INTEGRITY_METADATA] !== undefined });
        }
      } catch (error) {
        // A storage outage degrades to generating (the worker rewrites the object), not to a 5xx.
        sources.log({ event: 'storage-get-failed', key: key.slice(0, 12), error: String(error) });
      }
    }

    let pending = inflight.get(key);
    if (!pending && admit) {
      const refused = await admit();
      if (refused) return { ok: false, refused };
      pending = inflight.get(key);
    }
    if (!pending) {
      const body: WorkerImageRequest = { request, modelVersion, ...(storageChecked ? { storageChecked } : {}) };
      const model = sources.registry ? findModel(sources.registry, request.model) : undefined;
      pending = sources.pool.generate(key, body, model ? modelTimeAllowanceMs(model) : 0, (model?.seconds_per_image ?? 0) * 1000).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const outcome = await pending;
    if (!outcome.ok) return { ok: false, failure: outcome };
    remember(defer, key, outcome.image);
    return { ok: true, image: outcome.image, tier: 'generated' };
  };
}
