// The image key: a SHA-256 of the canonical request and the model version. It names the image in
// the edge cache, in object storage and in the worker's single-flight table, and it is the ETag.
import { canonicalPath } from './canonical.js';
import { sha256Hex } from './digest.js';
import type { ImageRequest } from './request.js';

/**
 * Version tag of the key derivation; bump it when the canonical form changes or when the same
 * request's bytes do (2: the canonical form carries a lossy format's quality, and every image
 * carries its XMP marking), so no cache or store ever holds two byte strings under one key.
 */
export const IMAGE_KEY_SCHEME = 'imf-image/2';

/** Hex SHA-256 of `imf-image/2\n<model version>\n<canonical path and query>`. */
export async function imageKey(req: ImageRequest, modelVersion: string): Promise<string> {
  return sha256Hex(`${IMAGE_KEY_SCHEME}\n${modelVersion}\n${canonicalPath(req)}`);
}

/** Where the image lives in object storage: `images/<model>/<version>/<key>.<format>`. */
export function objectKey(req: ImageRequest, modelVersion: string, key: string): string {
  return `images/${req.model}/${modelVersion}/${key}.${req.format}`;
}

/** The strong ETag of an image: its key, quoted. Same request and version, same bytes. */
export function imageEtag(key: string): string {
  return `"${key}"`;
}

/** An image key names the same bytes forever, so every copy of an image may be cached forever. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
