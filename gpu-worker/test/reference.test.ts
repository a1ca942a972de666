// Python and the worker make the same image: for every shipped model with a reference.json, the
// worker's PNG pixels equal the 8-bit pixels the PyTorch sampler produced for the same requests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../functions/src/contract/manifest.js';
import type { WorkerBatchResponse } from '../../functions/src/contract/worker-api.js';
import { repoPath } from './paths.js';
import { generate, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

/**
 * The allowed difference: PyTorch and ONNX Runtime may round a float differently in the last bits,
 * which moves a pixel sitting on a rounding boundary by one level. Any pixel off by more, or more
 * than this many pixels off by one in one image, is a real mismatch.
 */
const MAX_PIXELS_OFF_BY_ONE = 3;

interface ReferenceRequest {
  seed: number;
  class: number;
  guidance: number;
  t_min: number;
  t_max: number;
  pixels_base64: string;
}

const shipped = readdirSync(repoPath('models'))
  .filter((name) => existsSync(repoPath(`models/${name}/model.json`)) && existsSync(repoPath(`models/${name}/reference.json`)))
  .map((name) => {
    const dir = repoPath(`models/${name}`);
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelManifest;
    const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { model_version: string; requests: ReferenceRequest[] };
    return { manifest, reference };
  });

/** How far the worker's pixels are from the reference: the largest difference and how many differ. */
function compare(actual: Uint8Array, expected: Uint8Array): { maxDiff: number; differing: number } {
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d > 0) differing++;
    maxDiff = Math.max(maxDiff, d);
  }
  return { maxDiff, differing };
}

describe.each(shipped)('reference images of $manifest.id', ({ manifest, reference }) => {
  let worker: TestWorker;
  beforeAll(async () => {
    worker = await startTestWorker();
    await worker.worker.ready;
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('was made by the model version being served', () => {
    expect(reference.model_version).toBe(manifest.version);
    expect(reference.requests.length).toBeGreaterThan(0);
  });

  const asRequest = (r: ReferenceRequest) => workRequest(manifest, { seed: r.seed, class: r.class, guidance: r.guidance, tmin: r.t_min, tmax: r.t_max });
  const pixelsOf = (png: Uint8Array) => {
    const decoded = decode(png);
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([manifest.image.width, manifest.image.height, manifest.image.channels]);
    return decoded.data as Uint8Array;
  };

  it.each(reference.requests.map((r) => [`seed ${r.seed} class ${r.class} ω ${r.guidance} [${r.t_min}, ${r.t_max}]`, r] as const))(
    'matches the Python pixels for %s',
    async (_, r) => {
      const response = await generate(worker.url, [await asRequest(r)]);
      expect(response.status).toBe(200);
      const { maxDiff, differing } = compare(pixelsOf(new Uint8Array(await response.arrayBuffer())), Buffer.from(r.pixels_base64, 'base64'));
      expect(maxDiff, 'largest pixel difference').toBeLessThanOrEqual(1);
      expect(differing, `pixels off by one (at most ${MAX_PIXELS_OFF_BY_ONE})`).toBeLessThanOrEqual(MAX_PIXELS_OFF_BY_ONE);
    },
  );

  it('gives the same pixels when all reference requests share one batch', async () => {
    const response = await generate(worker.url, await Promise.all(reference.requests.map(asRequest)));
    expect(response.status).toBe(200);
    const { images } = (await response.json()) as WorkerBatchResponse;
    images.forEach((image, i) => {
      const { maxDiff, differing } = compare(pixelsOf(Buffer.from(image.data, 'base64')), Buffer.from(reference.requests[i]!.pixels_base64, 'base64'));
      expect(maxDiff).toBeLessThanOrEqual(1);
      expect(differing).toBeLessThanOrEqual(MAX_PIXELS_OFF_BY_ONE);
    });
  });
});
