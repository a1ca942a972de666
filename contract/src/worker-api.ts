// The GPU worker's internal API as the edge calls it: the one contract gpu-worker/ implements.
// The edge sends canonical requests with their image and object keys; the worker generates the
// image, writes it to object storage under objectKey, and answers with the bytes.
//
//   POST /v1/generate                       (on each worker URL from WORKER_URLS)
//   x-imf-worker-secret: <shared secret>    (WORKER_SECRET; anything else → 401)
//   content-type: application/json
//   { "requests": [ WorkerImageRequest, … ] }   1..16 entries
//
//   200, one request:   the image bytes; content-type image/png|image/webp|image/jpeg;
//                       x-imf-image-key: <key>; x-imf-object-key: <objectKey>
//   200, several:       application/json WorkerBatchResponse (base64 images, same order)
//   400 / 401:          application/problem+json (the edge does not retry these)
//   409:                the worker does not serve this model version (the edge tries the next)
//   503 + Retry-After:  saturated or not ready (the edge tries the next worker)
//
//   GET /readyz  → 200 when the model is loaded and the worker accepts work, else 503.
//   GET /healthz → 200 while the process lives.
//
// `request.size` is the output edge in pixels, one of manifest.ts allowedSizes: the native width
// times 1/4, 1/2, 1, 2, 4 or 8; the worker upscales by an integer factor (nearest neighbour) or
// averages whole blocks of pixels.
// `request.class` may be the manifest's null_class (unconditional).
// `storageChecked: true` says the edge has just found no object under objectKey: the worker does
// not look again, and its write-once put treats an object that got there meanwhile (412) as done.
//
// The worker must be idempotent per image key (same key, same bytes) and should single-flight
// concurrent requests for one key; the edge's rendezvous hashing sends a key to one worker.
import { z } from 'zod';
import { imageRequestSchema, MAX_IMAGES_PER_REQUEST } from './request.js';

export const WORKER_GENERATE_PATH = '/v1/generate';
export const WORKER_READY_PATH = '/readyz';
export const WORKER_SECRET_HEADER = 'x-imf-worker-secret';
export const IMAGE_KEY_HEADER = 'x-imf-image-key';
export const OBJECT_KEY_HEADER = 'x-imf-object-key';

export const workerImageRequestSchema = z.strictObject({
  /** The canonical request (canonical.ts); the worker must not re-default anything. */
  request: imageRequestSchema,
  /** The manifest version the edge keyed the image with. */
  modelVersion: z.string(),
  /** imageKey(request, modelVersion). */
  key: z.string().regex(/^[0-9a-f]{64}$/),
  /** objectKey(request, modelVersion, key): where the worker stores the image. */
  objectKey: z.string(),
  /**
   * True when the edge looked objectKey up in storage just before this call and found no object
   * there (not an outage, not an object that failed its integrity check). The worker then skips its
   * own lookup and goes straight to its conditional put, so a miss costs two storage calls, not
   * three; without it (absent or false) the worker looks first, as it must when called directly.
   */
  storageChecked: z.boolean().optional(),
});

export type WorkerImageRequest = z.infer<typeof workerImageRequestSchema>;

export const workerGenerateBodySchema = z.strictObject({ requests: z.array(workerImageRequestSchema).min(1).max(MAX_IMAGES_PER_REQUEST) });

export type WorkerGenerateBody = z.infer<typeof workerGenerateBodySchema>;

/** The answer to several requests; the worker writes it and the tests read it with this schema. */
export const workerBatchResponseSchema = z.object({
  images: z.array(
    z.object({ key: z.string(), objectKey: z.string(), contentType: z.string(), data: z.string().describe('base64') }),
  ),
});

export type WorkerBatchResponse = z.infer<typeof workerBatchResponseSchema>;
