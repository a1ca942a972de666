// From a checked request to stored image bytes: its place in the model's batch, which gives its
// 8-bit pixels, PNG, WebP or JPEG at the requested size and quality, marked as generated (XMP,
// encode/xmp.ts), and one write-once put with the generation parameters beside it.
import { CONTENT_TYPES, type ImageRequest, type ImageStore } from '@imf/contract';
import { encodeImage } from '../encode/index.js';
import { markImage, type Provenance } from '../encode/xmp.js';
import type { WorkerMetrics } from '../metrics/index.js';
import type { KeyedWork } from './check.js';
import type { ServedModel } from './served-model.js';

export interface RenderedImage {
  key: string;
  objectKey: string;
  contentType: string;
  body: Uint8Array;
  /** Milliseconds of each step of a generated image (its wait for and run in a batch, encode, store). */
  timings?: Record<'inference' | 'encode' | 'store', number>;
}

/** The generation parameters stored with each object (S3 user metadata: lowercase ASCII). */
function objectMetadata(req: ImageRequest, version: string, key: string): Record<string, string> {
  return {
    model: req.model,
    'model-version': version,
    class: String(req.class),
    guidance: String(req.guidance),
    tmin: String(req.tmin),
    tmax: String(req.tmax),
    seed: String(req.seed),
    format: req.format,
    size: String(req.size),
    ...(req.quality === undefined ? {} : { quality: String(req.quality) }),
    'image-key': key,
  };
}

/** What the image says about itself: model and version always, the request's parameters unless left out. */
export interface Marking {
  /** XMP_PARAMETERS: write the generation parameters (class, guidance, interval, seed, size, format, …). */
  parameters: boolean;
}

/** The provenance of a request's image: every field of the canonical request but the model, which it names. */
function provenance(req: ImageRequest, version: string, marking: Marking): Provenance {
  if (!marking.parameters) return { model: req.model, version };
  const { model, ...parameters } = req;
  return { model, version, parameters };
}

/** Generates, encodes and stores one image; `waitMs` bounds its wait for batches. */
export async function renderImage(work: KeyedWork, served: ServedModel, waitMs: number, store: ImageStore, metrics: WorkerMetrics, marking: Marking): Promise<RenderedImage> {
  const req = work.request;
  const { image: shape } = served.manifest;
  const started = performance.now();
  const pixels = await served.batcher.submit({ seed: req.seed, classIndex: req.class, guidance: req.guidance, tmin: req.tmin, tmax: req.tmax }, Math.max(1, waitMs));
  const encodeStarted = performance.now();
  const body = markImage(await encodeImage(pixels, shape, req), req.format, provenance(req, work.modelVersion, marking));
  const encodeMs = performance.now() - encodeStarted;
  metrics.encodeSeconds.observe({ format: req.format }, encodeMs / 1000);
  const contentType = CONTENT_TYPES[req.format];
  const storeStarted = performance.now();
  await metrics.timeStorage(
    'put',
    () => store.putIfAbsent(work.objectKey, { body, contentType, metadata: objectMetadata(req, work.modelVersion, work.key) }),
    (outcome) => outcome,
  );
  const timings = { inference: encodeStarted - started, encode: encodeMs, store: performance.now() - storeStarted };
  return { key: work.key, objectKey: work.objectKey, contentType, body, timings };
}
