// Response headers every route gets: security headers on all responses, a CSP on pages, and CORS
// for the API. Set on the final response after the handler, never by replacing it: re-wrapping a
// Response (as hono/cors does for simple requests) costs a stream copy per request on Node.
import type { MiddlewareHandler } from 'hono';

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set('strict-transport-security', 'max-age=63072000; includeSubDomains');
    h.set('x-content-type-options', 'nosniff');
    h.set('referrer-policy', 'no-referrer');
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
  return async (c, next) => {
    const origin = allowed(c.req.header('origin'));
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      const headers: Record<string, string> = { 'access-control-allow-methods': ALLOW_METHODS, 'access-control-allow-headers': ALLOW_HEADERS, 'access-control-max-age': '600' };
      if (origin) headers['access-control-allow-origin'] = origin;
      if (!any) headers.vary = 'Origin';
      return new Response(null, { status: 204, headers });
    }
    await next();
    if (origin) {
      c.res.headers.set('access-control-allow-origin', origin);
      c.res.headers.set('access-control-expose-headers', EXPOSE_HEADERS);
    }
    if (!any) c.res.headers.append('vary', 'Origin');
  };
}
