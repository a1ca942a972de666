// Where API keys live: only as SHA-256 hashes. One contract, two adapters: a list from the
// environment (Node, or a Workers secret) and Workers KV keyed by hash (issue keys without a deploy).
import { sha256Hex } from '@imf/contract';
import { Memo } from '../memo/index.js';

/** What the edge knows about a valid key: its hash (the rate-limit identity), never the key. */
export interface ApiKeyRecord {
  hash: string;
  /** First 8 hex digits of the hash: safe to log. */
  id: string;
}

export interface ApiKeyStore {
  /** The record for this key hash (lower-case hex), or undefined. */
  lookup(hash: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Whether a valid key has this id (the start of its hash, as signed URLs carry it in `by`): a URL
   * signed by a key that has since been revoked must not generate on its account.
   */
  hasKeyId(id: string): Promise<boolean>;
}

export async function hashApiKey(key: string): Promise<string> {
  return sha256Hex(key);
}

/** Compares two strings in time that depends only on their lengths (UTF-16 code units). */
export function timingSafeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

/** Hashes from configuration (API_KEY_HASHES). Every stored hash is compared, without early exit. */
export function envKeyStore(hashes: readonly string[]): ApiKeyStore {
  return {
    async lookup(hash) {
      let found = false;
      for (const stored of hashes) found = timingSafeEqual(stored, hash) || found;
      return found ? { hash, id: hash.slice(0, 8) } : undefined;
    },
    async hasKeyId(id) {
      // The id is public (it is in the URL): no need for constant time.
      return id.length > 0 && hashes.some((stored) => stored.startsWith(id));
    },
  };
}

/** Minimal KV surface, so this file needs no Workers types. */
export interface KeyValueReader {
  get(key: string): Promise<string | null>;
  list(options: { prefix: string; limit?: number }): Promise<{ keys: readonly { name: string }[] }>;
}

/**
 * Workers KV: one entry per key, named `key:<sha256 hex>` (value: any JSON note, e.g. the owner).
 * Looking up by hash reveals nothing about the key through timing: the hash is one-way.
 */
export function kvKeyStore(kv: KeyValueReader): ApiKeyStore {
  return {
    async lookup(hash) {
      const entry = await kv.get(`key:${hash}`);
      return entry === null ? undefined : { hash, id: hash.slice(0, 8) };
    },
    async hasKeyId(id) {
      // Only a signed URL's miss asks this (it is about to cost an inference): one list call is cheap beside it.
      if (!/^[0-9a-f]{1,64}$/.test(id)) return false;
      return (await kv.list({ prefix: `key:${id}`, limit: 1 })).keys.length > 0;
    },
  };
}

/** Tries each store in turn (e.g. KV first, then the secret list). */
export function chainKeyStores(...stores: ApiKeyStore[]): ApiKeyStore {
  return {
    async lookup(hash) {
      for (const store of stores) {
        const record = await store.lookup(hash);
        if (record) return record;
      }
      return undefined;
    },
    async hasKeyId(id) {
      for (const store of stores) if (await store.hasKeyId(id)) return true;
      return false;
    },
  };
}

/**
 * A hasher that remembers the last `maxEntries` keys' hashes. A client sends the same key on every
 * request, and hashing it through WebCrypto was a fifth of a cached image's CPU on Node. Only the
 * hash is remembered, never whether the key is valid: every request still asks the key store, so
 * a revoked key stops working at once.
 */
export function memoizedHasher(hash: (key: string) => Promise<string>, maxEntries = 1000): (key: string) => Promise<string> {
  const hashes = new Memo<string>(maxEntries);
  return async (key) => {
    const known = hashes.get(key);
    if (known !== undefined) return known;
    const hashed = await hash(key);
    hashes.set(key, hashed);
    return hashed;
  };
}
