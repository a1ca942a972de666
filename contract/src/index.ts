// The shared contract of the image API: canonical requests, image keys, signed URLs and the
// worker's internal API. Imported by the edge (functions/), the GPU worker and the tests.
export * from './manifest.js';
export * from './numbers.js';
export * from './canonical.js';
export * from './image-key.js';
export * from './signature.js';
export * from './worker-api.js';
