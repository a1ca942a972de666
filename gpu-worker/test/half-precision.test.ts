// A float16 import (`npm run model:import -- --tiny --precision fp16`): the same inputs and output as
// any model, so the worker serves it unchanged, and its pixels are the reference's, which are that
// float16 graph's own, alone and in shared batches.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePixels, type ReferenceRequest } from '../../test/support/reference.js';
import { buildTinyModel, offByOneAllowed, type TinyModel } from '../../test/support/tiny-model.js';
import { generate, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

let modelsDir: string;
let tiny: TinyModel;
let worker: TestWorker;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'imf-half-precision-'));
  tiny = buildTinyModel(modelsDir, 'imf-tiny-fp16', ['--precision', 'fp16']);
  worker = await startTestWorker({ MODELS_DIR: modelsDir, MAX_BATCH_SIZE: '3' });
  await worker.worker.ready;
});
afterAll(async () => {
  await worker?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

const asRequest = (r: ReferenceRequest, given = {}) => workRequest(tiny.manifest, { seed: r.seed, class: r.class, guidance: r.guidance, tmin: r.t_min, tmax: r.t_max, ...given });
const expectReferencePixels = (pixels: Uint8Array, r: ReferenceRequest) => {
  const { maxDiff, differing } = comparePixels(pixels, r);
  expect(maxDiff, 'largest pixel difference').toBeLessThanOrEqual(1);
  expect(differing, 'values off by one').toBeLessThanOrEqual(offByOneAllowed(pixels.length));
};
const pngPixels = async (response: Response, side: number) => {
  expect(response.status).toBe(200);
  const image = decode(new Uint8Array(await response.arrayBuffer()));
  expect([image.width, image.height, image.channels]).toEqual([side, side, 3]);
  return image.data as Uint8Array;
};

describe('a float16 model', () => {
  it('is a float16 graph with its measured difference from float32 and the contract inputs and output', () => {
    expect(tiny.manifest.precision).toMatchObject({ compute: 'float16', against_float32: { requests: 6 } });
    const typed = (tensors: readonly { name: string; dtype: string }[]) => tensors.map((t) => [t.name, t.dtype]);
    expect(typed(tiny.manifest.inputs)).toEqual([['noise', 'float32'], ['class', 'int64'], ['guidance', 'float32'], ['t_min', 'float32'], ['t_max', 'float32']]);
    expect(typed(tiny.manifest.outputs)).toEqual([['image', 'uint8']]);
  });

  it('gives its reference pixels for each reference request, one at a time', async () => {
    for (const r of tiny.reference.requests) expectReferencePixels(await pngPixels(await generate(worker.url, await asRequest(r)), 64), r);
  });

  it('gives the same pixels when the reference requests arrive at once and share batches', async () => {
    // Twice the size (whole pixels repeated) so that the keys are new and every image is generated here.
    const requests = tiny.reference.requests;
    const responses = await Promise.all(requests.map(async (r) => generate(worker.url, await asRequest(r, { size: 128 }))));
    for (const [i, response] of responses.entries()) {
      const large = await pngPixels(response, 128);
      const native = new Uint8Array(64 * 64 * 3).map((_, j) => large[(Math.floor(j / 192) * 2 * 128 + Math.floor((j % 192) / 3) * 2) * 3 + (j % 3)]!);
      expectReferencePixels(native, requests[i]!);
    }
  });
});
