// Response headers every route gets: security headers on all responses, a CSP on pages, and CORS
// for the API. Set on the final response after the handler, never by replacing it: re-wrapping a
// Response (as hono/cors does for simple requests) costs a stream copy per request on Node.
//
// A hot route may instead put these headers into its own Response's plain header object
// (`bakedHeaders(c)`) and mark it: touching `c.res.headers` afterwards makes @hono/node-server turn
// its lightweight response into a full undici Headers, which on Node cost a cached image about as
// much CPU as everything else it does.
import type { Context, MiddlewareHandler } from 'hono';

/** On every response, also those Node's HTTP layer answers before the app (runtime/node-client-errors.ts). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

type HeaderVars = { Variables: { corsHeaders?: Record<string, string>; headersBaked?: boolean } };

/**
 * The security and CORS headers for a non-HTML response of this request, as a fresh plain object
 * the route adds its own headers to; calling it tells the middlewares the response already has them.
 *
 * Header objects are composed with Object.assign, never with object spread: on Node 20's V8 a
 * spread that adds keys (`{ ...a, ...b }`, `{ ...a, etag }`) takes a slow path, 1–6 µs each
 * against ~0.2 µs (measured), and a cached image's headers went through three of them.
 */
export function bakedHeaders(c: Context): Record<string, string> {
  const vars = c as unknown as Context<HeaderVars>;
  vars.set('headersBaked', true);
  return Object.assign({}, SECURITY_HEADERS, vars.get('corsHeaders'));
}

const baked = (c: Context) => (c as unknown as Context<HeaderVars>).get('headersBaked') === true;

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (baked(c)) return;
    const h = c.res.headers;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) h.set(name, value);
    if ((h.get('content-type') ?? '').startsWith('text/html')) {
      h.set('content-security-policy', PAGE_CSP);
      h.set('x-frame-options', 'DENY');
    }
  };
}

const ALLOW_METHODS = 'GET, HEAD, POST, OPTIONS';
const ALLOW_HEADERS = 'Authorization, Content-Type, If-None-Match';
const EXPOSE_HEADERS = 'ETag, Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, X-Image-Tier';

/** CORS for the API: `*` or an allow-list of origins; preflights answered here with 204. */
export function apiCors(origins: readonly string[]): MiddlewareHandler {
  const any = origins.includes('*');
  const allowed = (origin: string | undefined) => (any ? '*' : origin && origins.includes(origin) ? origin : undefined);
  // With `*` every response gets the same headers: build them once (they are only ever copied).
  const forAnyOrigin: Record<string, string> = { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSE_HEADERS };
  return async (c, next) => {
    const origin = allowed(c.req.header('origin'));
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      const headers: Record<string, string> = { 'access-control-allow-methods': ALLOW_METHODS, 'access-control-allow-headers': ALLOW_HEADERS, 'access-control-max-age': '600' };
      if (origin) headers['access-control-allow-origin'] = origin;
      if (!any) headers.vary = 'Origin';
      return new Response(null, { status: 204, headers });
    }
    let cors = forAnyOrigin;
    if (!any) {
      cors = { vary: 'Origin' };
      if (origin) {
        cors['access-control-allow-origin'] = origin;
        cors['access-control-expose-headers'] = EXPOSE_HEADERS;
      }
    }
    (c as unknown as Context<HeaderVars>).set('corsHeaders', cors);
    await next();
    if (baked(c)) return;
    for (const [name, value] of Object.entries(cors)) {
      if (name === 'vary') c.res.headers.append(name, value);
      else c.res.headers.set(name, value);
    }
  };
}
