// The OpenAPI document is valid OpenAPI 3.1 (checked by a JSON-schema validator of the spec, which
// needs Node) and names every route of the public API.
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { createEdgeApp } from '../../src/app.js';
import { nodeDeps } from '../../src/runtime/node.js';

describe('OpenAPI document', () => {
  it('validates against the OpenAPI 3.1 schema', async () => {
    const app = createEdgeApp({ ...nodeDeps({ SIGNING_KEYS: 'k:secret-secret-secret-secret' }), log: () => {} });
    const document = await (await app.request('/openapi.json')).json();
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every public route the router serves, and nothing else', async () => {
    const app = createEdgeApp({ ...nodeDeps({ SIGNING_KEYS: 'k:secret-secret-secret-secret' }), log: () => {} });
    const document = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    const routed = app.routes
      .filter((r) => r.method !== 'ALL' && (r.path.startsWith('/v1/') || r.path === '/healthz' || r.path === '/readyz'))
      .map((r) => `${r.method} ${r.path}`);
    expect([...new Set(routed)].sort()).toEqual(documented.sort());
  });
});
