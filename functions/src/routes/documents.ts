// GET /openapi.json and GET /docs: the OpenAPI document of the documented routes, and its page.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { openApiDocument } from '../openapi/document.js';
import { docsPage } from '../pages/docs.js';

export function registerDocuments(app: OpenAPIHono): void {
  app.get('/openapi.json', (c) => c.json(openApiDocument(app)));
  app.get('/docs', (c) => c.html(docsPage(openApiDocument(app))));
}
