// The GPU worker's internal API as the edge calls it: the one contract gpu-worker/ implements.
// The edge sends one canonical request and the model version it keyed it with; the worker checks
// both, derives the image and object keys itself (image-key.ts, the one definition), generates the
// image, writes it to object storage under the object key, and answers with the bytes.
//
//   POST /v1/generate                       (on each worker URL from WORKER_URLS)
//   x-imf-worker-secret: <shared secret>    (WORKER_SECRET; anything else → 401)
//   content-type: application/json
//   { "request": ImageRequest, "modelVersion": "<version>", "storageChecked"?: true }
//
//   200:                the image bytes; content-type image/png|image/webp|image/jpeg;
//                       x-imf-image-key: <key>; x-imf-object-key: <objectKey>. The edge serves
//                       them only when the key is the one it computed.
//   400 / 401:          application/problem+json (the edge does not retry these); a request that is
//                       not in canonical form is a 400
//   409:                the worker does not serve this model version, as during a rolling deploy
//                       (the edge tries the next worker; none serving it is a 503, not a failure)
//   503 + Retry-After:  saturated or not ready (the edge tries the next worker)
//
//   GET /readyz  → 200 when the model is loaded and the worker accepts work, else 503.
//   GET /healthz → 200 while the process lives.
//
// One image per call: the edge's rendezvous hashing sends each image key to its own worker, so the
// n images of one POST /v1/images spread over the pool, and a worker's batcher already joins the
// concurrent calls it gets into one inference batch.
// `request.size` is the output edge in pixels, one of manifest.ts allowedSizes: the native width
// times 1/4, 1/2, 1, 2, 4 or 8; the worker upscales by an integer factor (nearest neighbour) or
// averages whole blocks of pixels.
// `request.class` may be the manifest's null_class (unconditional).
// `storageChecked: true` says the edge has just found no object under the object key: the worker
// does not look again, and its write-once put treats an object that got there meanwhile (412) as done.
//
// The worker must be idempotent per image key (same key, same bytes) and should single-flight
// concurrent requests for one key.
import { z } from 'zod';
import { imageRequestSchema } from './request.js';

export const WORKER_GENERATE_PATH = '/v1/generate';
export const WORKER_READY_PATH = '/readyz';
export const WORKER_SECRET_HEADER = 'x-imf-worker-secret';
export const IMAGE_KEY_HEADER = 'x-imf-image-key';
export const OBJECT_KEY_HEADER = 'x-imf-object-key';

/** The type URIs of the worker's problems: urn:imf:worker:<kind>. */
export const WORKER_PROBLEM_TYPE_PREFIX = 'urn:imf:worker:';
/**
 * The problem (503) a worker answers when object storage failed it: the edge then reports storage,
 * not the workers, as the dependency that is down.
 */
export const WORKER_STORAGE_PROBLEM_TYPE = `${WORKER_PROBLEM_TYPE_PREFIX}storage`;

/** The body of POST /v1/generate: one image. */
export const workerImageRequestSchema = z.strictObject({
  /** The canonical request (canonical.ts); the worker must not re-default anything. */
  request: imageRequestSchema,
  /** The manifest version the edge keyed the image with; the worker answers 409 for another. */
  modelVersion: z.string(),
  /**
   * True when the edge looked the object key up in storage just before this call and found no
   * object there (not an outage, not an object that failed its integrity check). The worker then
   * skips its own lookup and goes straight to its conditional put, so a miss costs two storage
   * calls, not three; without it (absent or false) the worker looks first, as it must when called
   * directly.
   */
  storageChecked: z.boolean().optional(),
});

export type WorkerImageRequest = z.infer<typeof workerImageRequestSchema>;
