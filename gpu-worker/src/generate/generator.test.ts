// How a generation fails says whose fault it is: the model's run failing is 'inference', anything
// else unexpected is 'internal', each counted under its own reason; a refusal keeps its own kind.
import { imageKey, modelManifestSchema, objectKey, StorageError, type ImageRequest, type ImageStore } from '@imf/contract';
import { describe, expect, it } from 'vitest';
import { shippedManifest } from '../../test/support/model-folders.js';
import { Batcher } from '../batcher/index.js';
import { WorkerError } from '../errors.js';
import type { SampleRequest } from '../inference/inference-thread.js';
import { WorkerMetrics } from '../metrics/index.js';
import type { KeyedWork } from './check.js';
import { ImageGenerator } from './index.js';

const manifest = modelManifestSchema.parse(shippedManifest());

async function work(seed: number): Promise<KeyedWork> {
  const request: ImageRequest = { model: manifest.id, class: 1, guidance: manifest.guidance.default, tmin: 0, tmax: 1, seed, format: 'png', size: manifest.image.width };
  const key = await imageKey(request, manifest.version);
  return { request, modelVersion: manifest.version, key, objectKey: objectKey(request, manifest.version, key) };
}

function generatorWith(run: (items: SampleRequest[]) => Promise<Uint8Array[]>, get: ImageStore['get']) {
  const metrics = new WorkerMetrics({ processMetrics: false });
  const batcher = new Batcher<SampleRequest, Uint8Array>(run, { maxBatchSize: 4, maxDelayMs: 1, maxQueue: 8 });
  const served = { manifest, executionProvider: 'cpu' as const, batcher, alive: () => true };
  const store: ImageStore = { kind: 'test', get, putIfAbsent: async () => 'created', replace: async () => {}, ready: async () => true };
  return { generator: new ImageGenerator([served], store, metrics, { requestTimeoutMs: 5000 }), served, metrics };
}

async function errorCount(metrics: WorkerMetrics, reason: string): Promise<number> {
  const series = (await metrics.errors.get()).values.find((v) => v.labels.reason === reason);
  return series?.value ?? 0;
}

describe('image generator failures', () => {
  it("reports the model's run failing as 'inference'", async () => {
    const { generator, served, metrics } = generatorWith(async () => Promise.reject(new Error('ORT exploded')), async () => undefined);
    const failure = await generator.generate(await work(1), served).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkerError);
    expect((failure as WorkerError).kind).toBe('inference');
    expect(await errorCount(metrics, 'inference')).toBe(1);
    expect(await errorCount(metrics, 'internal')).toBe(0);
  });

  it("counts an unexpected error as 'internal', not as an inference failure", async () => {
    const { generator, served, metrics } = generatorWith(async (items) => items.map(() => new Uint8Array(28 * 28)), async () => {
      throw new TypeError('a bug in a store');
    });
    await expect(generator.generate(await work(2), served)).rejects.toThrow(TypeError);
    expect(await errorCount(metrics, 'internal')).toBe(1);
    expect(await errorCount(metrics, 'inference')).toBe(0);
  });

  it('keeps the kind of a refusal, e.g. storage', async () => {
    const { generator, served, metrics } = generatorWith(async (items) => items.map(() => new Uint8Array(28 * 28)), async () => {
      throw new WorkerError('storage', 'storage is down', 2);
    });
    await expect(generator.generate(await work(3), served)).rejects.toMatchObject({ kind: 'storage' });
    expect(await errorCount(metrics, 'storage')).toBe(1);
  });

  it("counts the storage port's own failure (StorageError) as 'storage', not as a bug", async () => {
    const { generator, served, metrics } = generatorWith(async (items) => items.map(() => new Uint8Array(28 * 28)), async () => {
      throw new StorageError('storage GET answered 503', 'unavailable', 503);
    });
    await expect(generator.generate(await work(4), served)).rejects.toThrow(StorageError);
    expect(await errorCount(metrics, 'storage')).toBe(1);
    expect(await errorCount(metrics, 'internal')).toBe(0);
  });
});
