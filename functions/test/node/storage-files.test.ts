// The Node edge with STORAGE_DIR: it reads the folder the workers' filesystem stores write, as its
// storage tier, and serves an object there only with a matching integrity tag.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { canonicalPath, defaultQuality, imageKey, INTEGRITY_METADATA, integrityTag, objectKey, type ImageRequest } from '@imf/contract';
import { filesystemStore } from '@imf/contract/storage/node';
import { hashApiKey } from '../../src/auth/index.js';
import { registry } from '../../src/models/registry.js';
import { startNodeEdge } from '../../src/runtime/node.js';
import { API_KEY, SIGNING_KEYS } from '../support/env.js';

const env = inject('edge');
const model = Object.values(registry)[0]!;
const INTEGRITY_KEY = 'files-test-integrity-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'imf-edge-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function request(): ImageRequest {
  const seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return { model: model.id, class: 1, guidance: model.guidance.default, tmin: model.interval.default[0], tmax: model.interval.default[1], seed, format: 'webp', size: model.image.width, ...defaultQuality('webp') };
}

it('answers from the files the workers wrote when STORAGE_DIR is set, checking their integrity tags', async () => {
  const edge = await startNodeEdge({
    port: 0,
    env: { API_KEY_HASHES: await hashApiKey(API_KEY), SIGNING_KEYS, WORKER_URLS: env.upstreams.refused, WORKER_SECRET: env.workerSecret, STORAGE_DIR: dir, STORAGE_INTEGRITY_KEY: INTEGRITY_KEY, LOG_REQUESTS: 'false' },
  });
  try {
    const store = filesystemStore(dir);
    const [tagged, untagged] = [request(), request()];
    const body = new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4]);
    for (const [req, tag] of [[tagged, true], [untagged, false]] as const) {
      const object = objectKey(req, model.version, await imageKey(req, model.version));
      await store.putIfAbsent(object, { body, contentType: 'image/webp', metadata: tag ? { [INTEGRITY_METADATA]: await integrityTag(INTEGRITY_KEY, object, { body, contentType: 'image/webp' }) } : {} });
    }
    const get = (req: ImageRequest) => fetch(edge.url + canonicalPath(req), { headers: { authorization: `Bearer ${API_KEY}` } });

    const hit = await get(tagged);
    expect([hit.status, hit.headers.get('x-image-tier')]).toEqual([200, 'storage']);
    expect(Array.from(new Uint8Array(await hit.arrayBuffer()))).toEqual(Array.from(body));
    // No tag: a miss, sent to the pool (here a port that refuses), never served.
    const refused = await get(untagged);
    await refused.arrayBuffer();
    expect(refused.status).not.toBe(200);
    expect(await (await fetch(`${edge.url}/readyz`)).json()).toMatchObject({ storage: 'ready' });
  } finally {
    await edge.close();
  }
});
