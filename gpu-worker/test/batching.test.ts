// Batching changes nothing about an image: a request batched with others of different class,
// guidance and interval gives what it gives alone — through the sampler and through the HTTP API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceThread, type SampleRequest } from '../src/inference/inference-thread.js';
import type { ModelFolder } from '@imf/contract/models/node';
import { discoverModels } from '../src/models/discover.js';
import { repoPath } from './paths.js';
import { generate, metric, startTestWorker, workRequest, type TestWork, type TestWorker } from './support/worker.js';

/** Mixed requests: every class and the null class, guidance across the range, several intervals. */
function mixedRequests(model: ModelFolder, count: number): SampleRequest[] {
  const m = model.manifest;
  const classes = [...m.classes.keys(), m.null_class];
  const intervals: [number, number][] = [m.interval.default, [0.1, 0.9], [0.3, 0.7], [0, 0.5]];
  return Array.from({ length: count }, (_, i) => ({
    seed: 1000 + 7919 * i,
    classIndex: classes[i % classes.length]!,
    guidance: Math.round((m.guidance.min + ((m.guidance.max - m.guidance.min) * i) / (count - 1)) * 1000) / 1000,
    tmin: intervals[i % intervals.length]![0],
    tmax: intervals[i % intervals.length]![1],
  }));
}

describe('a batch of mixed requests through the sampler', () => {
  let model: ModelFolder;
  let sampler: InferenceThread;
  beforeAll(async () => {
    const discovery = await discoverModels(repoPath('models'));
    model = discovery.models[0]!;
    sampler = await InferenceThread.open(model, { executionProvider: 'auto', intraOpThreads: 1, interOpThreads: 1 });
  });
  afterAll(async () => {
    await sampler?.close();
  });

  it('gives each request the image it gets alone', async () => {
    const requests = mixedRequests(model, 16);
    const batched = await sampler.run(requests);
    for (const [i, request] of requests.entries()) {
      const [alone] = await sampler.run([request]);
      // Kernels for different batch sizes may sum in another order: float noise, never a pixel.
      expect(Buffer.from(batched[i]!).equals(Buffer.from(alone!)), `request ${i}: pixels alone and batched`).toBe(true);
    }
  });

  it('gives the same image wherever in the batch a request sits', async () => {
    const requests = mixedRequests(model, 8);
    const forward = await sampler.run(requests);
    const reversed = (await sampler.run([...requests].reverse())).reverse();
    forward.forEach((image, i) => expect(Array.from(reversed[i]!)).toEqual(Array.from(image)));
  });
});

describe('batched serving', () => {
  let batching: TestWorker;
  let unbatched: TestWorker;
  beforeAll(async () => {
    // A long delay gathers the concurrent requests into one batch; MAX_BATCH_SIZE=1 runs each alone.
    batching = await startTestWorker({ MAX_BATCH_SIZE: '16', MAX_BATCH_DELAY_MS: '50' });
    unbatched = await startTestWorker({ MAX_BATCH_SIZE: '1' });
    await Promise.all([batching.worker.ready, unbatched.worker.ready]);
  });
  afterAll(async () => {
    await Promise.all([batching?.stop(), unbatched?.stop()]);
  });

  it('answers concurrent mixed requests from shared batches with the bytes each gets alone', async () => {
    const generator = batching.worker.generator()!;
    const manifest = generator.servedModels[0]!.manifest;
    const discovery = await discoverModels(repoPath('models'));
    const work: TestWork[] = await Promise.all(
      mixedRequests(discovery.models[0]!, 12).map((r, i) =>
        workRequest(manifest, { seed: r.seed, class: r.classIndex, guidance: r.guidance, tmin: r.tmin, tmax: r.tmax, format: i % 2 ? 'png' : 'webp' }),
      ),
    );
    const together = await Promise.all(work.map(async (w) => new Uint8Array(await (await generate(batching.url, w)).arrayBuffer())));
    const model = manifest.id;
    const batches = await metric(batching.url, 'imf_worker_batch_size_count', { model });
    const inferred = await metric(batching.url, 'imf_worker_batch_size_sum', { model });
    expect(inferred).toBe(12);
    expect(batches, 'forward passes for 12 concurrent requests').toBeLessThan(12);

    const alone: Uint8Array[] = [];
    for (const w of work) alone.push(new Uint8Array(await (await generate(unbatched.url, w)).arrayBuffer()));
    expect(await metric(unbatched.url, 'imf_worker_batch_size_count', { model })).toBe(12);
    together.forEach((bytes, i) => expect(Buffer.from(bytes).equals(Buffer.from(alone[i]!)), `request ${i}`).toBe(true));
  });
});
