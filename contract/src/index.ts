// @imf/contract: what the edge, the GPU worker, the exporters and the tests share, each thing defined
// once. See README.md for which file defines what.
export * from './manifest.js';
export * from './numbers.js';
export * from './request.js';
export * from './issues.js';
export * from './canonical.js';
export * from './bytes.js';
export * from './digest.js';
export * from './image-key.js';
export * from './signature.js';
export * from './integrity.js';
export * from './worker-api.js';
export * from './problem.js';
export * from './storage/types.js';
export * from './storage/s3-api.js';
export * from './storage/memory.js';
export * from './price.js';
