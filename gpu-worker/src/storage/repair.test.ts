// An object the store cannot produce (5xx for its key) is a miss that the next put writes over; an
// outage without an answer stays an error. Logic only: the e2e suite (storage-loss) deletes real volumes.
import { memoryStore, StorageError, type ImageStore } from '@imf/contract';
import { describe, expect, it } from 'vitest';
import { withRepair } from './repair.js';

/** A memory store whose gets of `broken` keys fail as `error` says (the record is still there: puts-if-absent answer 'exists'). */
function brokenStore(broken: Set<string>, error: () => Error) {
  const inner = memoryStore();
  const store: ImageStore = { ...inner, get: async (key) => (broken.has(key) ? Promise.reject(error()) : inner.get(key)) };
  return { inner, store };
}

const image = (byte: number) => ({ body: new Uint8Array([byte]), contentType: 'image/png', metadata: {} });

describe('storage repair', () => {
  it('reads an object the store answers 500 for as absent, and writes the regenerated one over it', async () => {
    const broken = new Set(['k']);
    const { inner, store } = brokenStore(broken, () => new StorageError('storage GET answered 500', 'unavailable', 500));
    await inner.putIfAbsent('k', image(1));
    const heard: string[] = [];
    const repaired = withRepair(store, (key) => heard.push(key));
    expect(await repaired.get('k')).toBeUndefined();
    expect(heard).toEqual(['k']);
    expect(await repaired.putIfAbsent('k', image(2))).toBe('created');
    broken.clear();
    expect([...(await repaired.get('k'))!.body]).toEqual([2]);
  });

  it('keeps write-once for every other key', async () => {
    const { inner, store } = brokenStore(new Set(), () => new Error('never'));
    await inner.putIfAbsent('k', image(1));
    expect(await withRepair(store, () => {}).putIfAbsent('k', image(2))).toBe('exists');
    expect([...(await inner.get('k'))!.body]).toEqual([1]);
  });

  it('leaves an outage without an answer an error', async () => {
    const { store } = brokenStore(new Set(['k']), () => new StorageError('storage GET failed: ECONNREFUSED', 'unavailable'));
    await expect(withRepair(store, () => {}).get('k')).rejects.toThrow(/ECONNREFUSED/);
  });
});
