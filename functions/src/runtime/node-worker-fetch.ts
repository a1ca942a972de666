// The edge's calls to GPU workers on Node, over node:http with a keep-alive agent. Node's global
// fetch (undici) costs several times the CPU per call of node:http, and on a machine the edge shares
// with workers that CPU is taken from inference. Only what WorkerPool uses is supported: a method,
// headers, a string body, an AbortSignal; the answer is read whole into a Response.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

function responseHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** A fetch for http:// worker URLs; `maxSockets` bounds the connections kept to each worker. */
export function nodeWorkerFetch(maxSockets = 256): typeof fetch {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      if (url.protocol !== 'http:') {
        reject(new TypeError(`nodeWorkerFetch speaks http:// only, not ${url.protocol}`));
        return;
      }
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const body = typeof init.body === 'string' ? init.body : undefined;
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const outgoing = request({ hostname: url.hostname, port: url.port, path: url.pathname + url.search, method: init.method ?? 'GET', headers, agent }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', fail);
        incoming.on('end', () => {
          signal?.removeEventListener('abort', abort);
          const status = incoming.statusCode ?? 502;
          // A Response may not carry a body with these statuses.
          const empty = status === 204 || status === 304;
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders(incoming.headers) }));
        });
      });
      function fail(error: Error) {
        signal?.removeEventListener('abort', abort);
        reject(error);
      }
      function abort() {
        outgoing.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      }
      signal?.addEventListener('abort', abort, { once: true });
      outgoing.on('error', fail);
      outgoing.end(body);
    });
}
