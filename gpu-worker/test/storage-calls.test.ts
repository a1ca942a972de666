// What a miss costs in storage calls, counted at a proxy in front of a real S3 server: one
// conditional put when the edge says it has just found the object missing (storageChecked), a
// lookup and a put without that word; a put answered 412 (the object got there meanwhile) is a
// success; and an object that fails its integrity check is still found and written over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTEGRITY_METADATA, integrityMatches, type ModelManifest } from '@imf/contract';
import { startS3Server, type S3Server } from '../../test/support/s3-server.js';
import type { ImageStore } from '@imf/contract';
import { nodeS3Store } from '@imf/contract/storage/node';
import { startCountingProxy, type CountingProxy } from './support/counting-proxy.js';
import { generate, metric, s3Env, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

const INTEGRITY_KEY = 'storage-calls-test-integrity-key';

let s3: S3Server;
let proxy: CountingProxy;
let worker: TestWorker;
let store: ImageStore;
let manifest: ModelManifest;

beforeAll(async () => {
  s3 = await startS3Server();
  proxy = await startCountingProxy(s3.endpoint);
  worker = await startTestWorker({ ...s3Env(s3, proxy.endpoint), STORAGE_INTEGRITY_KEY: INTEGRITY_KEY });
  await worker.worker.ready;
  manifest = worker.worker.generator()!.servedModels[0]!.manifest;
  // Straight to the server, around the proxy and the worker: what another writer would do.
  store = nodeS3Store({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, maxAttempts: 1 });
});
afterAll(async () => {
  await worker?.stop();
  await proxy?.stop();
  await s3?.stop();
});

let nextSeed = 7_000_000;
const fresh = () => workRequest(manifest, { seed: nextSeed++, class: 6 });
const calls = (objectKey: string) => proxy.callsFor(objectKey).map((c) => `${c.method}${c.conditional ? ' if-none-match' : ''} ${c.status}`);

describe('storage calls per miss', () => {
  it('is one conditional put when the edge has just found the object missing', async () => {
    const work = await fresh();
    const response = await generate(worker.url, { ...work, storageChecked: true });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(calls(work.objectKey)).toEqual(['PUT if-none-match 200']);
  });

  it('is a lookup and a conditional put without that word (called directly)', async () => {
    const work = await fresh();
    const response = await generate(worker.url, work);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(calls(work.objectKey)).toEqual(['GET 404', 'PUT if-none-match 200']);
  });

  it('answers 200 when the put finds the object already there (412): the image is the stored one', async () => {
    const work = await fresh();
    const first = Buffer.from(await (await generate(worker.url, work)).arrayBuffer());
    const existsBefore = await metric(worker.url, 'imf_worker_storage_seconds_count', { operation: 'put', outcome: 'exists' });
    const errorsBefore = await metric(worker.url, 'imf_worker_errors_total');
    const again = await generate(worker.url, { ...work, storageChecked: true });
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).equals(first)).toBe(true);
    expect(calls(work.objectKey).slice(2)).toEqual(['PUT if-none-match 412']);
    expect(await metric(worker.url, 'imf_worker_storage_seconds_count', { operation: 'put', outcome: 'exists' })).toBe(existsBefore + 1);
    expect(await metric(worker.url, 'imf_worker_errors_total')).toBe(errorsBefore);
    // The object stored first is left as it was, with its tag.
    const stored = await store.get(work.objectKey);
    expect(Buffer.from(stored!.body).equals(first)).toBe(true);
  });

  it('still looks when not told, finds an object that fails its integrity check, and writes over it', async () => {
    const work = await fresh();
    const planted = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9, 9, 9]);
    expect(await store.putIfAbsent(work.objectKey, { body: planted, contentType: 'image/png', metadata: {} })).toBe('created');
    const response = await generate(worker.url, work);
    expect(response.status).toBe(200);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(Buffer.from(body).equals(Buffer.from(planted))).toBe(false);
    // The lookup, then an unconditional put (S3 replace) over the planted bytes.
    expect(calls(work.objectKey)).toEqual(['GET 200', 'PUT 200']);
    const stored = await store.get(work.objectKey);
    expect(Buffer.from(stored!.body).equals(Buffer.from(body))).toBe(true);
    expect(await integrityMatches(INTEGRITY_KEY, work.objectKey, stored!)).toBe(true);
  });
});
