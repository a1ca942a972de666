// The docs page, rendered on the server from the OpenAPI document (no external scripts, so the
// page works offline and under a strict CSP).
import { escapeHtml } from './html.js';

const PROBLEM_KINDS = ['invalid-parameters', 'unauthorized', 'bad-signature', 'forbidden-origin', 'generation-refused', 'not-found', 'payload-too-large', 'unsupported-media-type', 'rate-limited', 'bad-gateway', 'pool-unavailable', 'storage-unavailable', 'pool-timeout', 'internal'];

interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string }>;
  security?: unknown[];
}

export function docsPage(document: object): string {
  const paths = (document as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
  const sections = Object.entries(paths)
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => {
        const params = (op.parameters ?? [])
          .map((p) => `<li><code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)}${p.required ? ', required' : ''})${p.description ? ' — ' + escapeHtml(p.description) : ''}</li>`)
          .join('');
        const responses = Object.entries(op.responses ?? {})
          .map(([code, r]) => `<li><code>${escapeHtml(code)}</code> ${escapeHtml(r.description ?? '')}</li>`)
          .join('');
        return `<section id="${escapeHtml(method + path)}">
<h2><code>${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</code></h2>
<p>${escapeHtml(op.summary ?? '')}</p>${op.description ? `<p>${escapeHtml(op.description)}</p>` : ''}
${op.requestBody ? '<p>Body: JSON <code>ImageRequest</code> (see <a href="/openapi.json">openapi.json</a>), at most 16 KB.</p>' : ''}
${params ? `<h3>Parameters</h3><ul>${params}</ul>` : ''}
<h3>Responses</h3><ul>${responses}</ul>
</section>`;
      }),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iMF image API</title><link rel="stylesheet" href="/playground.css"></head>
<body><main>
<h1>iMF image API</h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Try it: <a href="/">playground</a>.
Authenticate with <code>Authorization: Bearer &lt;api key&gt;</code>, or fetch a signed URL from <code>POST /v1/sign</code>.</p>
<p id="problems">Errors are <code>application/problem+json</code> (RFC 9457): <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code>, and <code>errors</code> listing each bad parameter with its rule.</p>
<section><h2>Problem types</h2><ul>${PROBLEM_KINDS.map((k) => `<li id="problem-${k}"><code>${k}</code></li>`).join('')}</ul></section>
${sections}
</main></body></html>`;
}
