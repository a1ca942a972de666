// The request target (path and query) of an image URL, read from the URL string itself.
//
// Both runtimes hand the app an already-normalised absolute URL (workerd by its own parser,
// @hono/node-server by `new URL` whenever the raw target is unusual), so slicing it gives what
// `new URL(url).pathname + .search` would, at a fraction of the cost: on Node that parse was a
// visible share of a cached image's CPU.
import { SIGNATURE_PARAMS } from '@imf/contract';

/** `/path?query` of an absolute URL; no fragment (a request never carries one). */
export function requestTarget(url: string): string {
  const scheme = url.indexOf('://');
  const slash = url.indexOf('/', scheme < 0 ? 0 : scheme + 3);
  if (slash < 0) return '/';
  const hash = url.indexOf('#', slash);
  const target = hash < 0 ? url.slice(slash) : url.slice(slash, hash);
  // `new URL` drops a bare trailing `?`; keep the two spellings one request.
  return target.endsWith('?') ? target.slice(0, -1) : target;
}

const NAMES_A_SIGNATURE = new RegExp(`(?:^|&)(?:${SIGNATURE_PARAMS.join('|')})(?:[=&]|$)`);

/** Whether the query names any signature parameter (`exp`, `kid`, `sig`), decoded as URLSearchParams would. */
export function carriesSignature(target: string): boolean {
  const q = target.indexOf('?');
  if (q < 0) return false;
  const query = target.slice(q + 1);
  // Escapes ('%65xp', '+') need the real decoder; plain names (every URL we mint) do not.
  if (/[%+]/.test(query)) {
    const params = new URLSearchParams(query);
    return SIGNATURE_PARAMS.some((name) => params.has(name));
  }
  return NAMES_A_SIGNATURE.test(query);
}
