// The internal API as the edge sees it (functions/src/contract/worker-api.ts), on a worker that
// runs the real model and stores into a real S3-compatible server.
import { decode } from 'fast-png';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_KEY_HEADER, IMMUTABLE_CACHE_CONTROL, type ModelManifest, OBJECT_KEY_HEADER, WORKER_GENERATE_PATH, WORKER_SECRET_HEADER, type WorkerImageRequest } from '@imf/contract';
import { startS3Server, type S3Server } from '../../test/support/s3-server.js';
import type { ImageStore } from '@imf/contract';
import { nodeS3Store } from '@imf/contract/storage/node';
import { startCuttingProxy, type CuttingProxy } from './support/cutting-proxy.js';
import { generate, metric, s3Env, SECRET, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

let s3: S3Server;
let worker: TestWorker;
let store: ImageStore;
let manifest: ModelManifest;

beforeAll(async () => {
  s3 = await startS3Server();
  worker = await startTestWorker(s3Env(s3));
  await worker.worker.ready;
  manifest = worker.worker.generator()!.servedModels[0]!.manifest;
  store = nodeS3Store({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, maxAttempts: 1 });
});
afterAll(async () => {
  await worker?.stop();
  await s3?.stop();
});

let nextSeed = 9_000_000;
/** A request no other test asks for, so nothing is stored or in flight for it yet. */
const fresh = (given: Parameters<typeof workRequest>[1] = {}) => workRequest(manifest, { seed: nextSeed++, class: 4, ...given });
const inferredImages = () => metric(worker.url, 'imf_worker_batch_size_sum', { model: manifest.id });

describe('probes', () => {
  it('answers /healthz', async () => {
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
  });

  it('says in /readyz which execution provider each model runs on, and that storage answers', async () => {
    const response = await fetch(`${worker.url}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; models: { id: string; version: string; executionProvider: string }[]; storage: unknown };
    expect(body.status).toBe('ready');
    expect(body.models).toContainEqual(expect.objectContaining({ id: manifest.id, version: manifest.version, executionProvider: expect.stringMatching(/^(cuda|cpu)$/) }));
    expect(body.storage).toEqual({ kind: 's3', ready: true });
  });

  it('exposes the queue, batch, inference, image, error and storage metrics', async () => {
    await generate(worker.url, await fresh());
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    for (const name of ['imf_worker_queue_depth', 'imf_worker_batch_size_bucket', 'imf_worker_inference_seconds_bucket', 'imf_worker_images_total', 'imf_worker_errors_total', 'imf_worker_storage_seconds_bucket', 'imf_worker_encode_seconds_bucket']) {
      expect(text).toContain(name);
    }
  });
});

describe('POST /v1/generate', () => {
  it('answers with the image bytes and the keys it derived, and stores it immutable with its parameters', async () => {
    const work = await fresh({ class: 7, guidance: 2.5, tmin: 0.1, tmax: 0.9 });
    const response = await generate(worker.url, work);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get(IMAGE_KEY_HEADER)).toBe(work.key);
    expect(response.headers.get(OBJECT_KEY_HEADER)).toBe(work.objectKey);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(decode(body)).toMatchObject({ width: 28, height: 28, channels: 1 });

    const stored = await store.get(work.objectKey);
    expect(Buffer.from(stored!.body).equals(Buffer.from(body))).toBe(true);
    expect(stored!.contentType).toBe('image/png');
    expect(stored!.cacheControl).toBe(IMMUTABLE_CACHE_CONTROL);
    expect(stored!.metadata).toMatchObject({ model: manifest.id, 'model-version': manifest.version, class: '7', guidance: '2.5', tmin: '0.1', tmax: '0.9', seed: String(work.request.seed), 'image-key': work.key });
  });

  it('upscales PNG by whole pixels to the requested size', async () => {
    const work = await fresh();
    const native = decode(new Uint8Array(await (await generate(worker.url, work)).arrayBuffer()));
    const big = await fresh({ seed: work.request.seed, size: 56 });
    const doubled = decode(new Uint8Array(await (await generate(worker.url, big)).arrayBuffer()));
    expect([doubled.width, doubled.height]).toEqual([56, 56]);
    for (let y = 0; y < 56; y++) for (let x = 0; x < 56; x++) expect(doubled.data[y * 56 + x]).toBe(native.data[(y >> 1) * 28 + (x >> 1)]);
  });

  it('encodes WebP at the requested size', async () => {
    const response = await generate(worker.url, await fresh({ format: 'webp', size: 112 }));
    expect(response.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 112, height: 112 });
  });

  it("encodes a lossy image at the request's quality, which names another image", async () => {
    const high = await fresh({ format: 'jpeg', size: 112, quality: 95 });
    const low = await workRequest(manifest, { ...high.request, quality: 20 });
    expect(low.key).not.toBe(high.key);
    const [highBytes, lowBytes] = await Promise.all([high, low].map(async (w) => Buffer.from(await (await generate(worker.url, w)).arrayBuffer())));
    expect(lowBytes!.byteLength).toBeLessThan(highBytes!.byteLength);
    expect(await sharp(lowBytes).metadata()).toMatchObject({ format: 'jpeg', width: 112, height: 112 });
  });

  it('refuses a quality with PNG, and a lossy request without its quality, as not canonical (400)', async () => {
    const png = await fresh();
    expect((await generate(worker.url, { ...png, request: { ...png.request, quality: 80 } })).status).toBe(400);
    const webp = await fresh({ format: 'webp' });
    const { quality: _, ...withoutQuality } = webp.request;
    expect((await generate(worker.url, { ...webp, request: withoutQuality })).status).toBe(400);
  });

  it('gives the same bytes for the same request, the second time from storage without inference', async () => {
    const work = await fresh();
    const first = Buffer.from(await (await generate(worker.url, work)).arrayBuffer());
    const before = await inferredImages();
    const second = Buffer.from(await (await generate(worker.url, work)).arrayBuffer());
    expect(second.equals(first)).toBe(true);
    expect(await inferredImages()).toBe(before);
  });

  it('looks in storage before inference: a stored object is answered as it is', async () => {
    const work = await fresh();
    const planted = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await store.putIfAbsent(work.objectKey, { body: planted, contentType: 'image/png', metadata: {} });
    const before = await inferredImages();
    const response = await generate(worker.url, work);
    expect(Array.from(new Uint8Array(await response.arrayBuffer()))).toEqual(Array.from(planted));
    expect(await inferredImages()).toBe(before);
  });

  it('runs N identical concurrent requests once (single-flight), by the metrics', async () => {
    const work = await fresh();
    const before = await inferredImages();
    const bodies = await Promise.all(Array.from({ length: 16 }, async () => Buffer.from(await (await generate(worker.url, work)).arrayBuffer())));
    expect(await inferredImages()).toBe(before + 1);
    for (const body of bodies) expect(body.equals(bodies[0]!)).toBe(true);
  });

  it('echoes the request id and logs with it', async () => {
    const response = await generate(worker.url, await fresh(), { 'x-request-id': 'edge-req-42' });
    expect(response.headers.get('x-request-id')).toBe('edge-req-42');
    expect(worker.logs.some((line) => line.requestId === 'edge-req-42' && line.status === 200)).toBe(true);
  });

  it('echoes the request id on refusals and probes too', async () => {
    const refused = await fetch(`${worker.url}${WORKER_GENERATE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'edge-req-43' }, body: '{}' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toBe('edge-req-43');
    const wrong = await fetch(`${worker.url}${WORKER_GENERATE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: SECRET, 'x-request-id': 'edge-req-44' }, body: '{"request":{}}' });
    expect([wrong.status, wrong.headers.get('x-request-id')]).toEqual([400, 'edge-req-44']);
    const ready = await fetch(`${worker.url}/readyz`, { headers: { 'x-request-id': 'probe-1' } });
    expect([ready.status, ready.headers.get('x-request-id')]).toEqual([200, 'probe-1']);
  });
});

describe('refusals', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${worker.url}${WORKER_GENERATE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: SECRET, ...headers }, body });

  async function expectProblem(response: Response, status: number): Promise<{ detail: string; type: string }> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { status: number; detail: string; type: string };
    expect(problem.status).toBe(status);
    expect(problem.detail.length).toBeGreaterThan(0);
    return problem;
  }

  it('401 without the shared secret', async () => {
    await expectProblem(await fetch(`${worker.url}${WORKER_GENERATE_PATH}`, { method: 'POST', body: '{}' }), 401);
  });

  it('401 with a wrong shared secret, even one that shares its prefix', async () => {
    await expectProblem(await generate(worker.url, await fresh(), { [WORKER_SECRET_HEADER]: `${SECRET}x` }), 401);
    await expectProblem(await generate(worker.url, await fresh(), { [WORKER_SECRET_HEADER]: SECRET.slice(0, -1) }), 401);
  });

  it('400 for a body that is not JSON', async () => {
    await expectProblem(await post('not json'), 400);
  });

  it('400 naming the fields of a body that breaks the schema', async () => {
    const { request, modelVersion } = await fresh();
    const problem = (await expectProblem(await post(JSON.stringify({ request, modelVersion, extra: 1 })), 400)) as unknown as { errors: { parameter: string }[] };
    expect(problem.errors.map((e) => e.parameter)).toContain('extra');
    await expectProblem(await post(JSON.stringify({ request })), 400);
  });

  it('400 for keys sent with the request: the worker derives them', async () => {
    const { request, modelVersion, key, objectKey } = await fresh();
    await expectProblem(await post(JSON.stringify({ request, modelVersion, key })), 400);
    await expectProblem(await post(JSON.stringify({ request, modelVersion, objectKey })), 400);
  });

  it('400 for a batch of requests, generating none of them', async () => {
    const before = await inferredImages();
    const { request, modelVersion } = await fresh();
    await expectProblem(await post(JSON.stringify({ requests: [{ request, modelVersion }] })), 400);
    await expectProblem(await post(JSON.stringify({ requests: [await fresh(), await fresh()] })), 400);
    expect(await inferredImages()).toBe(before);
  });

  it('400 for guidance outside the model range', async () => {
    const problem = await expectProblem(await generate(worker.url, await fresh({ guidance: manifest.guidance.max + 1 })), 400);
    expect(problem.detail).toMatch(/guidance/);
  });

  it('400 for a size the model does not offer', async () => {
    await expectProblem(await generate(worker.url, await fresh({ size: 30 })), 400);
  });

  it('400 for numbers that are not in canonical form', async () => {
    const work = await fresh();
    await expectProblem(await generate(worker.url, { ...work, request: { ...work.request, guidance: 3.0004 } }), 400);
  });

  it('409 for a model version this worker does not serve', async () => {
    const work = await fresh();
    const other: WorkerImageRequest = { ...work, modelVersion: 'ffffffffffffffff' };
    const problem = await expectProblem(await generate(worker.url, other), 409);
    expect(problem.detail).toContain(manifest.version);
    expect(await store.get(work.objectKey)).toBeUndefined();
  });

  it('409 for a model this worker does not serve', async () => {
    const work = await workRequest({ ...manifest, id: 'imf-other' });
    await expectProblem(await generate(worker.url, work), 409);
  });

  it('413 for a body over the limit', async () => {
    await expectProblem(await post(JSON.stringify({ request: {}, padding: 'x'.repeat(70 * 1024) })), 413);
  });

  it('413 for a chunked body (no Content-Length) that grows past the limit', async () => {
    const chunk = new TextEncoder().encode(`{"request":{},"padding":"${'x'.repeat(16 * 1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(`${worker.url}${WORKER_GENERATE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: SECRET }, body, duplex: 'half' } as RequestInit);
    await expectProblem(response, 413);
  });

  it('400 for a chunked body that is not JSON, read whole', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"request": {'));
        controller.enqueue(new TextEncoder().encode('oops'));
        controller.close();
      },
    });
    const response = await fetch(`${worker.url}${WORKER_GENERATE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: SECRET }, body, duplex: 'half' } as RequestInit);
    await expectProblem(response, 400);
  });

});

describe('a storage outage', () => {
  let proxy: CuttingProxy;
  let cut: TestWorker;
  beforeAll(async () => {
    proxy = await startCuttingProxy(s3.endpoint);
    cut = await startTestWorker({ ...s3Env(s3, proxy.endpoint), S3_TIMEOUT_MS: '1000', S3_MAX_ATTEMPTS: '1' });
    await cut.worker.ready;
  });
  afterAll(async () => {
    await cut?.stop();
    await proxy?.stop();
  });

  it('turns into 503 with Retry-After, /readyz says so, and nothing is stored', async () => {
    const work = await fresh();
    proxy.mode = { kind: 'refuse' };
    const response = await generate(cut.url, work);
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await response.json()) as { type: string }).type).toBe('urn:imf:worker:storage');
    const ready = await fetch(`${cut.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await metric(cut.url, 'imf_worker_errors_total', { model: manifest.id, reason: 'storage' })).toBeGreaterThanOrEqual(1);
    expect(await store.get(work.objectKey)).toBeUndefined();
    proxy.mode = { kind: 'pass' };
    expect((await generate(cut.url, work)).status).toBe(200);
  });

  it('never leaves a partial object when the upload is cut midway', async () => {
    const work = await fresh({ format: 'webp', size: 224 });
    proxy.mode = { kind: 'cut-uploads' };
    const cutsBefore = proxy.cuts;
    const response = await generate(cut.url, work);
    proxy.mode = { kind: 'pass' };
    expect(proxy.cuts).toBeGreaterThan(cutsBefore);
    expect(response.status).toBe(503);
    expect(await store.get(work.objectKey)).toBeUndefined();
  });
});
