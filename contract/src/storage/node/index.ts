// @imf/contract/storage/node: the storage adapters that need Node (node:http, node:fs), for the GPU
// worker and the edge on Node. Kept out of the package's main entry so the Workers build never sees them.
export { nodeS3Store, type NodeS3Options } from './s3.js';
export { filesystemStore } from './filesystem.js';
