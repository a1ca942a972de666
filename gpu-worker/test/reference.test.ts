// Python and the worker make the same image: for every shipped model with a reference.json, the
// worker's PNG pixels equal the 8-bit pixels the PyTorch sampler produced for the same requests.
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PIXELS_OFF_BY_ONE, comparePixels, shippedModelsWithReferences, type ReferenceRequest } from '../../test/support/reference.js';
import { generate, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

const shipped = shippedModelsWithReferences();

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
      const response = await generate(worker.url, await asRequest(r));
      expect(response.status).toBe(200);
      const { maxDiff, differing } = comparePixels(pixelsOf(new Uint8Array(await response.arrayBuffer())), r);
      expect(maxDiff, 'largest pixel difference').toBeLessThanOrEqual(1);
      expect(differing, `pixels off by one (at most ${MAX_PIXELS_OFF_BY_ONE})`).toBeLessThanOrEqual(MAX_PIXELS_OFF_BY_ONE);
    },
  );

  it('gives the same pixels when all reference requests arrive at once and share batches', async () => {
    const responses = await Promise.all(reference.requests.map(async (r) => generate(worker.url, await asRequest(r))));
    for (const [i, response] of responses.entries()) {
      expect(response.status).toBe(200);
      const { maxDiff, differing } = comparePixels(pixelsOf(new Uint8Array(await response.arrayBuffer())), reference.requests[i]!);
      expect(maxDiff).toBeLessThanOrEqual(1);
      expect(differing).toBeLessThanOrEqual(MAX_PIXELS_OFF_BY_ONE);
    }
  });
});
