// The problem responses the image routes share: a request that does not parse, and a pool that
// could not make the image.
import type { ParseFailure } from '@imf/contract';
import type { ImageLookup } from '../images/tiers.js';
import { boundedIssues, invalidParameters, problem, problemResponse } from '../problem/index.js';

/** 404 for an unknown model, else 400 naming every bad parameter. */
export function parseFailure(result: ParseFailure, instance: string, headers: Record<string, string> = {}): Response {
  const p = result.notFound ? problem('not-found', boundedIssues(result.issues)[0]!.detail, { errors: boundedIssues(result.issues), instance: instance.slice(0, 256) }) : invalidParameters(result.issues, instance);
  return problemResponse(p, headers);
}

/** 502 when a worker refused the request, 503/504 with Retry-After when none could or did answer (503 storage-unavailable when storage failed them). */
export function lookupFailure(result: Extract<ImageLookup, { failure: unknown }>, headers: Record<string, string> = {}): Response {
  const { status, detail, retryAfterSeconds, dependency } = result.failure;
  // The problem names the dependency that is down: object storage, or the GPU workers.
  const kind = status === 504 ? 'pool-timeout' : status === 502 ? 'bad-gateway' : dependency === 'storage' ? 'storage-unavailable' : 'pool-unavailable';
  const extra: Record<string, string> = status === 502 ? {} : { 'retry-after': String(retryAfterSeconds) };
  return problemResponse(problem(kind, detail), Object.assign({}, headers, extra));
}
