// The Node edge's client for GPU workers (node:http, keep-alive) against a real HTTP server: what
// WorkerPool reads of an answer arrives whole, the request goes out as sent, connections are reused,
// and a deadline or a dead server ends the call with an error instead of holding it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeWorkerFetch } from '../../src/runtime/node-worker-fetch.js';

let server: Server;
let base: string;
const sockets = new Set<unknown>();
let handler: (request: IncomingMessage, body: string, response: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((request, response) => {
    sockets.add(request.socket);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('nodeWorkerFetch', () => {
  const call = nodeWorkerFetch(4);

  it('sends method, path, headers and body, and answers status, headers and bytes', async () => {
    let seen: { method?: string; url?: string; secret?: string | string[]; type?: string | string[]; body: string } = { body: '' };
    handler = (request, body, response) => {
      seen = { method: request.method, url: request.url, secret: request.headers['x-secret'], type: request.headers['content-type'], body };
      response.writeHead(200, { 'content-type': 'image/png', 'x-imf-image-key': 'ab'.repeat(32) });
      response.end(Buffer.from([137, 80, 78, 71, 0, 255]));
    };
    const answer = await call(`${base}/v1/generate?x=1`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-secret': 's' }, body: '{"a":"ü"}' });
    expect(seen).toEqual({ method: 'POST', url: '/v1/generate?x=1', secret: 's', type: 'application/json', body: '{"a":"ü"}' });
    expect(answer.status).toBe(200);
    expect(answer.ok).toBe(true);
    expect(answer.headers.get('content-type')).toBe('image/png');
    expect(answer.headers.get('x-imf-image-key')).toBe('ab'.repeat(32));
    expect([...new Uint8Array(await answer.arrayBuffer())]).toEqual([137, 80, 78, 71, 0, 255]);
  });

  it('answers refusals with their status and headers (503 + Retry-After, 409, 204)', async () => {
    handler = (request, _body, response) => {
      const status = Number(request.url!.slice(1));
      response.writeHead(status, status === 503 ? { 'retry-after': '7', 'content-type': 'application/problem+json' } : {});
      response.end(status === 204 ? undefined : '{"title":"busy"}');
    };
    const busy = await call(`${base}/503`);
    expect([busy.status, busy.headers.get('retry-after'), await busy.text()]).toEqual([503, '7', '{"title":"busy"}']);
    expect((await call(`${base}/409`)).status).toBe(409);
    const empty = await call(`${base}/204`);
    expect([empty.status, empty.body]).toEqual([204, null]);
  });

  it('keeps connections open between calls', async () => {
    handler = (_request, _body, response) => response.end('ok');
    sockets.clear();
    for (let i = 0; i < 10; i++) await (await call(`${base}/`)).text();
    expect(sockets.size).toBe(1);
  });

  it('gives up when the signal fires (a worker that never answers)', async () => {
    handler = () => {}; // never answers
    const started = performance.now();
    await expect(call(`${base}/hang`, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(call(`${base}/x`, { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('fails a call to a port nobody listens on, and refuses other schemes', async () => {
    await expect(call('http://127.0.0.1:9/v1/generate', { method: 'POST', body: '{}' })).rejects.toThrow();
    await expect(call('https://127.0.0.1:9/')).rejects.toThrow(/http:\/\/ only/);
  });
});
