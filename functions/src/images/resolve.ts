// From a request target to the image it names: the one step between the URL a client sent and the
// request and image key the tiers look up. A canonical target is parsed and hashed once; after that
// it is one lookup, so a hot image costs neither parsing nor a SHA-256.
import {
  canonicalPath,
  imageEtag,
  imageKey,
  parseImageTarget,
  type ImageRequest,
  type ModelRegistry,
  type ParseFailure,
} from '@imf/contract';
import { Memo } from '../memo/index.js';

/** An image request with everything the tiers and the response need, fixed for the deployment. */
export interface ResolvedImage {
  kind: 'image';
  request: ImageRequest;
  modelVersion: string;
  /** imageKey(request, modelVersion): the cache key, the object key's name and the ETag's value. */
  key: string;
  etag: string;
}

/** A valid request that is not in canonical form: it has one URL, `canonical`, to go to instead. */
export interface NotCanonical {
  kind: 'not-canonical';
  request: ImageRequest;
  canonical: string;
  /** The caller gave no seed and one was drawn: the way to `canonical` must not be cached. */
  seedDrawn: boolean;
}

export interface Unresolvable {
  kind: 'invalid';
  failure: ParseFailure;
  /** The path the problem is about. */
  instance: string;
}

export type Resolution = ResolvedImage | NotCanonical | Unresolvable;

export interface ImageResolver {
  /**
   * What an unsigned request target names. A canonical target seen before comes back as it is, not
   * in a promise: the hot path takes it without waiting a turn.
   */
  resolve(target: string): ResolvedImage | Promise<Resolution>;
  /** A parsed request with its key (a request from a JSON body, or from a non-canonical signed URL). */
  keyed(request: ImageRequest): Promise<ResolvedImage>;
}

export function createImageResolver(registry: ModelRegistry, maxEntries = 10_000): ImageResolver {
  // Canonical path → its resolution, bounded.
  const resolved = new Memo<ResolvedImage>(maxEntries);

  async function keyedAt(path: string, request: ImageRequest): Promise<ResolvedImage> {
    const known = resolved.get(path);
    if (known) return known;
    const modelVersion = registry[request.model]!.version;
    const key = await imageKey(request, modelVersion);
    const image: ResolvedImage = { kind: 'image', request, modelVersion, key, etag: imageEtag(key) };
    resolved.set(path, image);
    return image;
  }

  return {
    resolve(target) {
      const known = resolved.get(target);
      if (known) return known;
      const parsed = parseImageTarget(registry, target);
      if (!parsed.ok) {
        const q = target.indexOf('?');
        return Promise.resolve({ kind: 'invalid', failure: parsed, instance: q < 0 ? target : target.slice(0, q) });
      }
      const { request, seedDrawn } = parsed.value;
      const canonical = canonicalPath(request);
      if (canonical !== target) return Promise.resolve({ kind: 'not-canonical', request, canonical, seedDrawn });
      return keyedAt(canonical, request);
    },
    keyed(request) {
      return keyedAt(canonicalPath(request), request);
    },
  };
}
