// The tiers' storage calls on a miss: one lookup, and the pool told that storage was just found
// empty (so the worker's conditional put is the miss's only other call); an outage or an object
// that fails its integrity check leaves the worker to look for itself.
import { describe, expect, it } from 'vitest';
import { imageEtag, imageKey, INTEGRITY_METADATA, integrityTag, objectKey, type ImageReader, type ImageRequest, type StoredObject, type WorkerImageRequest } from '@imf/contract';
import { memoryCache } from '../cache/adapters/memory.js';
import type { PoolOutcome, WorkerPool } from '../pool/index.js';
import { createImageLookup } from './tiers.js';
import type { ResolvedImage } from './resolve.js';

const INTEGRITY_KEY = 'tiers-test-integrity-key';
const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3]);

async function resolved(seed: number): Promise<ResolvedImage> {
  const request: ImageRequest = { model: 'imf-mnist', class: 3, guidance: 2.5, tmin: 0.2, tmax: 0.8, seed, format: 'png', size: 28 };
  const key = await imageKey(request, '0123456789abcdef');
  return { kind: 'image', request, modelVersion: '0123456789abcdef', key, etag: imageEtag(key) };
}

/** A store that counts its calls; `behaviour` decides what each get finds. */
function countingStore(behaviour: (key: string) => Promise<StoredObject | undefined>): ImageReader & { gets: number } {
  const store = {
    kind: 'counting',
    gets: 0,
    async get(key: string) {
      store.gets += 1;
      return behaviour(key);
    },
    async ready() {
      return true;
    },
  };
  return store;
}

/** A pool that records what it was asked and answers with an image. */
function recordingPool(): WorkerPool & { items: WorkerImageRequest[] } {
  const items: WorkerImageRequest[] = [];
  return {
    items,
    async generate(_key: string, body: WorkerImageRequest): Promise<PoolOutcome> {
      items.push(body);
      return { ok: true, image: { body: png, contentType: 'image/png' }, worker: 'http://worker', attempts: 1 };
    },
  } as unknown as WorkerPool & { items: WorkerImageRequest[] };
}

async function miss(store: ImageReader, seed: number) {
  const pool = recordingPool();
  const lookup = createImageLookup({ cache: memoryCache({ maxEntries: 10, maxBytes: 1 << 20 }), store, pool, log: () => {}, integrityKey: INTEGRITY_KEY });
  const outcome = await lookup(await resolved(seed), () => {});
  return { outcome, pool };
}

describe('a miss', () => {
  it('looks in storage once and tells the worker that storage was just found empty', async () => {
    const store = countingStore(async () => undefined);
    const { outcome, pool } = await miss(store, 1);
    expect(outcome.ok && outcome.tier).toBe('generated');
    expect(store.gets).toBe(1);
    expect(pool.items).toHaveLength(1);
    expect(pool.items[0]!.storageChecked).toBe(true);
  });

  it('lets the worker look for itself when the lookup failed (an outage)', async () => {
    const store = countingStore(async () => {
      throw new Error('connection refused');
    });
    const { outcome, pool } = await miss(store, 2);
    expect(outcome.ok).toBe(true);
    expect(pool.items[0]!.storageChecked).toBeUndefined();
  });

  it('lets the worker look for itself (and repair) when the stored object fails its integrity check', async () => {
    const store = countingStore(async (key) => ({ body: png, contentType: 'image/png', metadata: { [INTEGRITY_METADATA]: await integrityTag(INTEGRITY_KEY, `${key}-other`, { body: png, contentType: 'image/png' }) } }));
    const { outcome, pool } = await miss(store, 3);
    expect(outcome.ok && outcome.tier).toBe('generated');
    expect(pool.items[0]!.storageChecked).toBeUndefined();
  });

  it('never reaches the pool when storage has the object with its tag', async () => {
    const image = await resolved(4);
    const object = objectKey(image.request, image.modelVersion, image.key);
    const store = countingStore(async (key) => (key === object ? { body: png, contentType: 'image/png', metadata: { [INTEGRITY_METADATA]: await integrityTag(INTEGRITY_KEY, object, { body: png, contentType: 'image/png' }) } } : undefined));
    const { outcome, pool } = await miss(store, 4);
    expect(outcome.ok && outcome.tier).toBe('storage');
    expect(store.gets).toBe(1);
    expect(pool.items).toHaveLength(0);
  });
});
