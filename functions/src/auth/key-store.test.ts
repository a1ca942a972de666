// API keys are matched by hash, with a comparison that does not stop at the first difference.
import { describe, expect, it } from 'vitest';
import { chainKeyStores, envKeyStore, hashApiKey, memoizedHasher, timingSafeEqual } from './key-store.js';

describe('API key store', () => {
  it('hashes keys with SHA-256 (hex)', async () => {
    expect(await hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('finds a key by its hash among several, and nothing else', async () => {
    const store = envKeyStore([await hashApiKey('one'), await hashApiKey('two')]);
    expect(await store.lookup(await hashApiKey('two'))).toMatchObject({ id: (await hashApiKey('two')).slice(0, 8) });
    expect(await store.lookup(await hashApiKey('three'))).toBeUndefined();
  });

  it('tries chained stores in order', async () => {
    const store = chainKeyStores(envKeyStore([]), envKeyStore([await hashApiKey('k')]));
    expect(await store.lookup(await hashApiKey('k'))).toBeDefined();
  });

  it('knows whether a valid key has an id (the start of its hash), in each store of a chain', async () => {
    const hash = await hashApiKey('k');
    const store = chainKeyStores(envKeyStore([]), envKeyStore([hash]));
    expect(await store.hasKeyId(hash.slice(0, 16))).toBe(true);
    expect(await store.hasKeyId((await hashApiKey('revoked')).slice(0, 16))).toBe(false);
    expect(await store.hasKeyId('')).toBe(false);
  });

  it('compares strings fully', () => {
    expect(timingSafeEqual('abcd', 'abcd')).toBe(true);
    expect(timingSafeEqual('abcd', 'abce')).toBe(false);
    expect(timingSafeEqual('abc', 'abcd')).toBe(false);
    expect(timingSafeEqual('', '')).toBe(true);
  });
});

describe('memoizedHasher', () => {
  it('hashes a key once, gives the same hash after, and forgets the oldest past its bound', async () => {
    const calls: string[] = [];
    const hash = memoizedHasher(async (key) => (calls.push(key), hashApiKey(key)), 2);
    expect(await hash('key-one-12345')).toBe(await hashApiKey('key-one-12345'));
    await hash('key-one-12345');
    expect(calls).toEqual(['key-one-12345']);
    await hash('key-two-12345');
    await hash('key-three-123');
    await hash('key-one-12345');
    expect(calls).toEqual(['key-one-12345', 'key-two-12345', 'key-three-123', 'key-one-12345']);
  });
});
