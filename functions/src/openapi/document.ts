// The OpenAPI document (/openapi.json, /docs) and the router from one definition per route.
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Handler } from 'hono';

/**
 * Registers a route's OpenAPI definition and its handler together, so the document and the router
 * cannot differ. Unlike `app.openapi(route, handler)`, the route's request schemas only document:
 * they are not run as validators. Requests are parsed by the contract's own parsers, which answer
 * problem+json naming each parameter and its rule, after the caller's key is checked and with the
 * body read under its size bound, and the hot image route is not parsed twice.
 */
export function documented(app: OpenAPIHono, route: RouteConfig, handler: Handler): void {
  app.openAPIRegistry.registerPath(route);
  app.on(route.method.toUpperCase(), route.path.replace(/\{(\w+)\}/g, ':$1'), handler);
}

/** The API key scheme the documented routes name in `security` (openapi/schemas.ts `bearer`). */
export function registerSecuritySchemes(app: OpenAPIHono): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'API key' });
}

/** The OpenAPI 3.1 document of every route registered with `documented`. */
export function openApiDocument(app: OpenAPIHono) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'iMF image API', version: '1.0.0', description: 'One-step image generation with improved MeanFlow models.' },
  });
}
