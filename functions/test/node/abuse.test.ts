// The abuse suite on Node (the edge on @hono/node-server over real HTTP, S3 on SeaweedFS), and what
// only Node has: its HTTP parser's refusals, the socket as the client's address, a client that
// drops its body midway, and a Host header written by the client.
import { connect } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { hashApiKey } from '../../src/auth/index.js';
import { registry } from '../../src/models/registry.js';
import { type RunningEdge } from '../../src/runtime/node.js';
import { startTestNodeEdge } from '../support/node-edge.js';
import { s3ObjectWriter } from '../../src/storage/adapters/test-objects.js';
import { abuseSuite } from '../abuse.js';
import { SIGNING_KEYS } from '../support/env.js';

const env = inject('edge');
const s3 = { S3_ENDPOINT: env.s3.endpoint, S3_BUCKET: env.s3.bucket, S3_ACCESS_KEY_ID: env.s3.accessKeyId, S3_SECRET_ACCESS_KEY: env.s3.secretAccessKey, S3_REGION: env.s3.region };

abuseSuite('Node', env, async (overrides) => {
  const logs: Record<string, unknown>[] = [];
  const edge = await startTestNodeEdge({ ...s3, ...overrides }, { log: (line) => logs.push(line) });
  return { fetch: (path, init) => fetch(edge.url + path, init), writeObject: s3ObjectWriter(env.s3), logs, close: edge.close };
});

const model = Object.values(registry)[0]!;
const KEY = 'imf_test_key_node_abuse_0123456';

async function withNodeEdge(overrides: Record<string, string>, run: (edge: RunningEdge, logs: Record<string, unknown>[]) => Promise<void>) {
  const logs: Record<string, unknown>[] = [];
  const edge = await startTestNodeEdge({ ...s3, SIGNING_KEYS, API_KEY_HASHES: await hashApiKey(KEY), WORKER_URLS: env.upstreams.ok, WORKER_SECRET: env.workerSecret, ...overrides }, { log: (line) => logs.push(line) });
  try {
    await run(edge, logs);
  } finally {
    await edge.close();
  }
}

/** Sends raw bytes and reads the whole answer (the edge closes or answers with a length). */
function raw(url: string, bytes: Buffer | string, endAfter = false): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(bytes);
      if (endAfter) socket.destroy();
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', (error) => (endAfter ? resolve(text) : reject(error)));
    socket.setTimeout(5000, () => socket.destroy());
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

describe('abuse resistance, Node only', () => {
  it('answers a 100 KB header with a 431 problem+json, not a bare status line', () =>
    withNodeEdge({}, async (edge) => {
      const answer = await raw(edge.url, `GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
      expect(statusOf(answer)).toBe(431);
      expect(answer.toLowerCase()).toContain('content-type: application/problem+json');
      expect(JSON.parse(bodyOf(answer))).toMatchObject({ status: 431, detail: expect.any(String) });
    }));

  it('answers a request target of raw UTF-8 bytes with a 400 problem+json', () =>
    withNodeEdge({}, async (edge) => {
      const answer = await raw(edge.url, Buffer.concat([Buffer.from('GET /v1/images/'), Buffer.from('ü€.png', 'utf8'), Buffer.from(' HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')]));
      expect(statusOf(answer)).toBe(400);
      expect(answer.toLowerCase()).toContain('content-type: application/problem+json');
      expect(JSON.parse(bodyOf(answer))).toMatchObject({ status: 400 });
    }));

  it('logs a body cut off midway as a 400, not as an unhandled 500', () =>
    withNodeEdge({}, async (edge, logs) => {
      const head = `POST /v1/images HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${KEY}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":"`;
      await raw(edge.url, head, true);
      const deadline = Date.now() + 3000;
      while (!logs.some((l) => l.path === '/v1/images') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(logs.filter((l) => l.path === '/v1/images').map((l) => l.status)).toEqual([400]);
      expect(logs.some((l) => l.event === 'unhandled')).toBe(false);
    }));

  it('never builds a URL from a forged Host: a relative Location, no evil.example', () =>
    withNodeEdge({ ALLOWED_HOSTS: '127.0.0.1' }, async (edge) => {
      const answer = await raw(edge.url, `GET /v1/images/${model.id}/3.png?seed=5 HTTP/1.1\r\nhost: evil.example\r\nauthorization: Bearer ${KEY}\r\nconnection: close\r\n\r\n`);
      expect(statusOf(answer)).toBe(302);
      expect(answer).not.toContain('evil.example');
      expect(answer).toMatch(/\r\nlocation: \/v1\/images\//i);
    }));

  it('builds no URL for an allowed host on another port: an entry without a port is the default port only', () =>
    withNodeEdge({ ALLOWED_HOSTS: '127.0.0.1' }, async (edge) => {
      // The harness allows 127.0.0.1 on the edge's own port; any other port gets a relative URL.
      const answer = await raw(edge.url, `GET /v1/images/${model.id}/3.png?seed=5 HTTP/1.1\r\nhost: 127.0.0.1:6666\r\nauthorization: Bearer ${KEY}\r\nconnection: close\r\n\r\n`);
      expect(statusOf(answer)).toBe(302);
      expect(answer).not.toContain(':6666');
      expect(answer).toMatch(/\r\nlocation: \/v1\/images\//i);
      const own = await raw(edge.url, `GET /v1/images/${model.id}/3.png?seed=5 HTTP/1.1\r\nhost: ${new URL(edge.url).host}\r\nauthorization: Bearer ${KEY}\r\nconnection: close\r\n\r\n`);
      expect(own).toMatch(new RegExp(`\\r\\nlocation: ${edge.url.replace(/\./g, '\\.')}/v1/images/`, 'i'));
    }));

  it.each([
    ['a backslash in the path', 'GET /v1\\models HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n'],
    ['an asterisk target', 'GET * HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n'],
    ['no Host header', 'GET /v1/models HTTP/1.1\r\nconnection: close\r\n\r\n'],
  ])('answers a request with %s with a 400 problem+json and the security headers', (_name, request) =>
    withNodeEdge({}, async (edge) => {
      const answer = await raw(edge.url, request);
      const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase();
      expect(statusOf(answer)).toBe(400);
      expect(head).toContain('content-type: application/problem+json');
      expect(head).toContain('x-content-type-options: nosniff');
      expect(head).toContain('strict-transport-security: max-age=');
      expect(JSON.parse(bodyOf(answer))).toMatchObject({ status: 400, detail: expect.any(String) });
    }),
  );

  it('closes a silent connection within its headers timeout, with a 408 problem', () =>
    withNodeEdge({ HEADERS_TIMEOUT_MS: '1000' }, async (edge) => {
      const started = Date.now();
      const answer = await raw(edge.url, '');
      const waited = Date.now() - started;
      // Node checks its timeouts once a second: the connection ends between 1 and about 2 s.
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(4000);
      if (answer !== '') {
        expect(statusOf(answer)).toBe(408);
        expect(answer.toLowerCase()).toContain('content-type: application/problem+json');
      }
    }));

  it('closes a connection that sends its headers too slowly', () =>
    withNodeEdge({ HEADERS_TIMEOUT_MS: '1000' }, async (edge) => {
      const started = Date.now();
      const answer = await raw(edge.url, 'GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\n');
      expect(Date.now() - started).toBeLessThan(4000);
      expect(statusOf(answer)).toBe(408);
    }));

  it('takes the client address from the socket: rotating X-Forwarded-For or CF-Connecting-IP buys no new budget', () =>
    withNodeEdge({ PLAYGROUND_RATE_LIMIT_BURST: '3', PLAYGROUND_RATE_LIMIT_PER_MINUTE: '0.001' }, async (edge) => {
      const html = await (await fetch(`${edge.url}/`)).text();
      const token = /name="playground-token" content="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
      const statuses = [];
      for (let i = 0; i < 6; i++) {
        const spoof = { 'x-forwarded-for': `203.0.113.${i}`, 'cf-connecting-ip': `198.51.100.${i}` };
        const body = JSON.stringify({ model: model.id, class: 1, seed: i });
        statuses.push((await fetch(`${edge.url}/playground/sign`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-playground-token': token, ...spoof }, body })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    }));

  it('believes X-Forwarded-For from a trusted proxy: behind it each forwarded client has its own budget', () =>
    withNodeEdge({ PLAYGROUND_RATE_LIMIT_BURST: '1', PLAYGROUND_RATE_LIMIT_PER_MINUTE: '0.001', TRUSTED_PROXIES: '127.0.0.1' }, async (edge) => {
      const html = await (await fetch(`${edge.url}/`)).text();
      const token = /name="playground-token" content="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
      const sign = (forwarded: string) =>
        fetch(`${edge.url}/playground/sign`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-playground-token': token, 'x-forwarded-for': forwarded },
          body: JSON.stringify({ model: model.id, class: 1, seed: 1 }),
        }).then((r) => r.status);
      // The client's own claim (left) is not believed: the right-most untrusted hop is the client.
      expect([await sign('198.51.100.1, 203.0.113.7'), await sign('198.51.100.2, 203.0.113.7'), await sign('203.0.113.8')]).toEqual([200, 429, 200]);
    }));
});
