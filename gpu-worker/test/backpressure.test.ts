// Saturation degrades to clear 503s with Retry-After, on the real model: a bounded queue, and a
// deadline for requests that wait too long.
import { afterEach, describe, expect, it } from 'vitest';
import { startCuttingProxy } from './support/cutting-proxy.js';
import { generate, metric, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

let worker: TestWorker | undefined;
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

async function burst(w: TestWorker, count: number, firstSeed: number) {
  const manifest = w.worker.generator()!.servedModels[0]!.manifest;
  const work = await Promise.all(Array.from({ length: count }, (_, i) => workRequest(manifest, { seed: firstSeed + i, class: i % 10 })));
  const responses = await Promise.all(work.map((r) => generate(w.url, r)));
  return Promise.all(
    responses.map(async (r) => ({
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      type: r.status === 200 ? undefined : ((await r.json()) as { type: string }).type,
    })),
  );
}

describe('saturation', () => {
  it('answers 503 with Retry-After once the queue is full, and serves the rest', async () => {
    // A batch closes only after a long delay, so the burst piles up in the queue: 4 fit, the rest do not.
    worker = await startTestWorker({ MAX_QUEUE: '4', MAX_BATCH_SIZE: '64', MAX_BATCH_DELAY_MS: '3000' });
    await worker.worker.ready;
    const results = await burst(worker, 24, 100);
    const refused = results.filter((r) => r.status === 503);
    expect(refused.length).toBe(20);
    expect(results.filter((r) => r.status === 200).length).toBe(4);
    expect(results.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    for (const r of refused) {
      expect(r.type).toBe('urn:imf:worker:queue-full');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(await metric(worker.url, 'imf_worker_errors_total', { reason: 'queue-full' })).toBe(refused.length);
  });

  it('sheds new requests with 503 at once while its oldest request in progress is older than SHED_AFTER_MS', async () => {
    // Eight requests wait 1.5 s for their batch; after 300 ms the worker counts itself behind.
    worker = await startTestWorker({ SHED_AFTER_MS: '300', MAX_BATCH_SIZE: '64', MAX_BATCH_DELAY_MS: '1500' });
    await worker.worker.ready;
    const first = burst(worker, 8, 300);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const started = performance.now();
    const shed = await burst(worker, 4, 400);
    expect(performance.now() - started, 'refused without waiting for the backlog').toBeLessThan(500);
    for (const r of shed) {
      expect(r).toMatchObject({ status: 503, type: 'urn:imf:worker:overloaded' });
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect((await first).every((r) => r.status === 200), 'the admitted backlog is still served').toBe(true);
    expect((await burst(worker, 2, 500)).every((r) => r.status === 200), 'admits again once the backlog drained').toBe(true);
  });

  it('answers 503 with Retry-After at REQUEST_TIMEOUT_MS while storage hangs, not when storage gives up', async () => {
    // A store that accepts connections and never answers; its own timeout (3 s) comes much later.
    // Nothing behind the proxy: in 'hang' mode it never connects upstream.
    const hung = await startCuttingProxy('http://127.0.0.1:9');
    hung.mode = { kind: 'hang' };
    try {
      worker = await startTestWorker({ REQUEST_TIMEOUT_MS: '400', S3_ENDPOINT: hung.endpoint, S3_BUCKET: 'images', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret', S3_TIMEOUT_MS: '3000', S3_MAX_ATTEMPTS: '1' });
      await worker.worker.ready;
      const started = performance.now();
      const [result] = await burst(worker, 1, 600);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(result).toMatchObject({ status: 503, type: 'urn:imf:worker:deadline' });
      expect(Number(result!.retryAfter)).toBeGreaterThanOrEqual(1);
      await worker.stop();
      worker = undefined;
    } finally {
      await hung.stop();
    }
  });

  it('answers 503 with Retry-After to requests still queued at their deadline', async () => {
    // The batch would close after 5 s; every request's deadline (200 ms) comes first.
    worker = await startTestWorker({ REQUEST_TIMEOUT_MS: '200', MAX_BATCH_SIZE: '64', MAX_BATCH_DELAY_MS: '5000' });
    await worker.worker.ready;
    const model = worker.worker.generator()!.servedModels[0]!.manifest.id;
    const started = performance.now();
    const results = await burst(worker, 6, 200);
    expect(performance.now() - started).toBeLessThan(4000);
    const late = results.filter((r) => r.status === 503);
    expect(late.length).toBe(6);
    expect(await metric(worker.url, 'imf_worker_batch_size_count', { model }), 'batches run').toBe(0);
    for (const r of late) {
      expect(r.type).toBe('urn:imf:worker:deadline');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(await metric(worker.url, 'imf_worker_errors_total', { reason: 'deadline' })).toBe(late.length);
  });
});
