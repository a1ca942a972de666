// Opt-in (IMF_FULL_SIZE_MODEL=<model folder>, e.g. a random B/2 from
// `npm run model:import -- --random B/2 --out /tmp/imf-b2-random`): the worker serves a
// full-size latent model on this machine's provider and makes one 256×256 image, which must be
// the Python reference's pixels; its time is printed. Minutes on a 2-core CPU, so npm test skips it.
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ModelManifest } from '@imf/contract';
import { comparePixels, type ReferenceRequest } from '../../test/support/reference.js';
import { offByOneAllowed } from '../../test/support/tiny-model.js';
import { generate, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

const folder = process.env.IMF_FULL_SIZE_MODEL;
let modelsDir: string;
let worker: TestWorker;
let manifest: ModelManifest;
let reference: { requests: ReferenceRequest[] };

beforeAll(async () => {
  if (!folder) return;
  modelsDir = mkdtempSync(join(tmpdir(), 'imf-full-size-'));
  symlinkSync(resolve(folder), join(modelsDir, basename(resolve(folder))));
  manifest = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as ModelManifest;
  reference = JSON.parse(readFileSync(join(folder, 'reference.json'), 'utf8'));
  const started = performance.now();
  worker = await startTestWorker({ MODELS_DIR: modelsDir, INTRA_OP_THREADS: process.env.INTRA_OP_THREADS ?? '0', MAX_BATCH_SIZE: '1', REQUEST_TIMEOUT_MS: '600000' });
  await worker.worker.ready;
  console.log(`full size: ${manifest.id} ready (validated, loaded, warmed up) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}, 1_800_000);
afterAll(async () => {
  await worker?.stop();
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

it.skipIf(!folder)('serves one full-size image equal to the Python reference, and says how long it took', async () => {
  const r = reference.requests[0]!;
  const started = performance.now();
  const response = await generate(worker.url, await workRequest(manifest, { seed: r.seed, class: r.class, guidance: r.guidance, tmin: r.t_min, tmax: r.t_max }));
  const seconds = (performance.now() - started) / 1000;
  expect(response.status).toBe(200);
  const png = decode(new Uint8Array(await response.arrayBuffer()));
  expect([png.width, png.height, png.channels]).toEqual([manifest.image.width, manifest.image.height, manifest.image.channels]);
  const { maxDiff, differing } = comparePixels(png.data as Uint8Array, r);
  expect(maxDiff).toBeLessThanOrEqual(1);
  expect(differing).toBeLessThanOrEqual(offByOneAllowed(png.data.length));
  const ready = (await (await fetch(`${worker.url}/readyz`)).json()) as { models: { executionProvider: string }[] };
  console.log(`full size: one ${manifest.image.width}×${manifest.image.height} image (sampler and VAE decoder in one graph, PNG, store) in ${seconds.toFixed(2)} s on ${ready.models[0]!.executionProvider}`);
}, 1_800_000);
