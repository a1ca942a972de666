// On Workers, API keys can also live in KV as `key:<sha256 hex>` entries (issued without a deploy).
import { createExecutionContext, env as bindings, waitOnExecutionContext } from 'cloudflare:test';
import { expect, it } from 'vitest';
import { createEdgeApp } from '../../src/app.js';
import { hashApiKey, kvKeyStore } from '../../src/auth/index.js';
import { workersDeps, type WorkersEnv } from '../../src/runtime/workers.js';
import { registry } from '../../src/models/registry.js';
import { SIGNING_KEYS } from '../support/env.js';

const cf = bindings as unknown as WorkersEnv & { API_KEYS: KVNamespace };

it('accepts a key whose hash is in KV and refuses one that is not', async () => {
  const key = 'imf_kv_key_0123456789abcdef';
  await cf.API_KEYS.put(`key:${await hashApiKey(key)}`, JSON.stringify({ owner: 'test' }));
  const env = { ...cf, SIGNING_KEYS, API_KEY_HASHES: '', LOG_REQUESTS: 'false' } as WorkersEnv;
  const app = createEdgeApp(workersDeps(env));
  const call = async (bearer: string) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request('https://edge.test/v1/sign', { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: Object.keys(registry)[0], class: 1 }) }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return response;
  };
  expect((await call(key)).status).toBe(200);
  expect((await call('imf_kv_key_not_issued_000000')).status).toBe(401);
});

it('finds a KV key by its id (what signed URLs carry), and not once it is deleted', async () => {
  const hash = await hashApiKey('imf_kv_key_revocable_0123456');
  const store = kvKeyStore(cf.API_KEYS);
  await cf.API_KEYS.put(`key:${hash}`, '{}');
  expect(await store.hasKeyId(hash.slice(0, 16))).toBe(true);
  await cf.API_KEYS.delete(`key:${hash}`);
  expect(await store.hasKeyId(hash.slice(0, 16))).toBe(false);
});
