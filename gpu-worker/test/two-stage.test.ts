// A latent model served in two stages (generator, then the VAE decoder) from a tiny random-weight
// import built for this file: the pixels of the Python reference for each seed, alone and batched;
// RGB in PNG, WebP and JPEG at sizes below and above the native one; per-stage batches, metrics
// and timings; external-data files checked by hash before anything is served.
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedSizes, modelManifestSchema, summarize, type WorkerBatchResponse } from '@imf/contract';
import { comparePixels, type ReferenceRequest } from '../../test/support/reference.js';
import { buildTinyModel, offByOneAllowed, type TinyModel } from '../../test/support/tiny-model.js';
import { downscale } from '../src/encode/index.js';
import { discoverModels } from '../src/models/discover.js';
import { generate, metric, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

let modelsDir: string;
let tiny: TinyModel;
let worker: TestWorker;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'imf-two-stage-'));
  tiny = buildTinyModel(modelsDir);
  worker = await startTestWorker({ MODELS_DIR: modelsDir, DECODER_MAX_BATCH_SIZE: '2' });
  await worker.worker.ready;
});
afterAll(async () => {
  await worker?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

const asRequest = (r: ReferenceRequest, given = {}) => workRequest(tiny.manifest, { seed: r.seed, class: r.class, guidance: r.guidance, tmin: r.t_min, tmax: r.t_max, ...given });
const rgbOf = (png: Uint8Array) => {
  const decoded = decode(png);
  expect([decoded.width, decoded.height, decoded.channels]).toEqual([64, 64, 3]);
  return decoded.data as Uint8Array;
};
const expectReferencePixels = (pixels: Uint8Array, r: ReferenceRequest) => {
  const { maxDiff, differing } = comparePixels(pixels, r);
  expect(maxDiff, 'largest pixel difference').toBeLessThanOrEqual(1);
  expect(differing, 'values off by one').toBeLessThanOrEqual(offByOneAllowed(pixels.length));
};

describe('a two-stage latent model', () => {
  it('is served with both stages, warm, on the provider the platform has', async () => {
    const ready = (await (await fetch(`${worker.url}/readyz`)).json()) as { status: string; models: { id: string; stages: string[]; executionProvider: string }[] };
    expect(ready.status).toBe('ready');
    expect(ready.models).toEqual([expect.objectContaining({ id: tiny.manifest.id, stages: ['generator', 'decoder'] })]);
    expect(['cpu', 'cuda']).toContain(ready.models[0]!.executionProvider);
  });

  it.each([0, 1, 2, 3, 4])('gives the Python reference pixels for reference request %i', async (i) => {
    const r = tiny.reference.requests[i]!;
    const response = await generate(worker.url, [await asRequest(r)]);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    // Where its time went: each stage (its wait for a batch included), the encode and the store.
    expect(response.headers.get('server-timing')).toMatch(/^generator;dur=[\d.]+, decoder;dur=[\d.]+, encode;dur=[\d.]+, store;dur=[\d.]+$/);
    expectReferencePixels(rgbOf(new Uint8Array(await response.arrayBuffer())), r);
  });

  it('gives the same pixels when every reference request shares one batch', async () => {
    const requests = tiny.reference.requests;
    // New keys (WebP) so that nothing comes from storage: every image is generated in this call.
    const response = await generate(worker.url, await Promise.all(requests.map((r) => asRequest(r, { format: 'webp' }))));
    expect(response.status).toBe(200);
    const { images } = (await response.json()) as WorkerBatchResponse;
    for (const [i, image] of images.entries()) {
      expect(image.contentType).toBe('image/webp');
      const { data, info } = await sharp(Buffer.from(image.data, 'base64')).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([64, 64, 3]);
      expectReferencePixels(new Uint8Array(data), requests[i]!);
    }
  });

  it('runs the decoder in batches of its own size, with metrics per stage', async () => {
    const model = tiny.manifest.id;
    const decoded = await metric(worker.url, 'imf_worker_batch_size_sum', { model, stage: 'decoder' });
    const generated = await metric(worker.url, 'imf_worker_batch_size_sum', { model, stage: 'generator' });
    expect(decoded).toBe(generated);
    const decoderBatches = await metric(worker.url, 'imf_worker_batch_size_count', { model, stage: 'decoder' });
    // The five-request batch above went through the decoder two at a time at most.
    expect(decoderBatches).toBeGreaterThanOrEqual(Math.ceil(decoded / 2));
    expect(await metric(worker.url, 'imf_worker_inference_seconds_count', { model, stage: 'decoder' })).toBe(decoderBatches);
  });

  it('offers 32 to 512 pixels: a block mean below the native size, whole pixels above it', async () => {
    expect(allowedSizes(summarize(modelManifestSchema.parse(tiny.manifest)))).toEqual([32, 64, 128, 256, 512]);
    const r = tiny.reference.requests[0]!;
    const native = Buffer.from(r.pixels_base64, 'base64');
    const small = decode(new Uint8Array(await (await generate(worker.url, [await asRequest(r, { size: 32 })])).arrayBuffer()));
    expect([small.width, small.height]).toEqual([32, 32]);
    const blockMeans = downscale(new Uint8Array(native), { channels: 3, height: 64, width: 64 }, 2);
    const worst = Math.max(...blockMeans.map((v, i) => Math.abs(v - (small.data as Uint8Array)[i]!)));
    expect(worst).toBeLessThanOrEqual(1);
    const large = decode(new Uint8Array(await (await generate(worker.url, [await asRequest(r, { size: 128 })])).arrayBuffer()));
    expect([large.width, large.height, large.channels]).toEqual([128, 128, 3]);
  });

  it('encodes JPEG, an RGB image of the requested size', async () => {
    const response = await generate(worker.url, [await asRequest(tiny.reference.requests[1]!, { format: 'jpeg', size: 256 })]);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['jpeg', 256, 256, 3]);
  });

  it('refuses a folder whose external-data file is not the one its manifest hashed', async () => {
    const copies = mkdtempSync(join(tmpdir(), 'imf-two-stage-bad-'));
    try {
      cpSync(tiny.dir, join(copies, tiny.manifest.id), { recursive: true });
      appendFileSync(join(copies, tiny.manifest.id, 'decoder.onnx.data'), Buffer.from([0]));
      const discovery = await discoverModels(copies);
      expect(discovery.models).toEqual([]);
      expect(discovery.refused[0]!.reason).toMatch(/^sha256 of decoder\.onnx\.data is [0-9a-f]{64} \(\d+ bytes\), the manifest says/);
    } finally {
      rmSync(copies, { recursive: true, force: true });
    }
  });
});
