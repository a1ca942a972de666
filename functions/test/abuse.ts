// The edge as an attacker probes it, one suite run in workerd and on Node like the
// behaviour suite: the playground is no free GPU, signed URLs are charged to their signer, stored
// bytes count only with their integrity tag, no URL is built from a forged Host, and the small
// leaks stay shut. Each test makes one attack and expects it to fail.
import { describe, expect, it } from 'vitest';
import { canonicalPath, imageKey, integrityTag, objectKey, parseSigningKeys, signPath, type ImageRequest } from '@imf/contract';
import { keySigner } from '../src/access/index.js';
import { hashApiKey } from '../src/auth/index.js';
import type { EdgeUnderTest, StartEdge } from './behaviour.js';
import { SIGNING_KEYS, type EdgeTestEnv } from './support/env.js';
import { image, model, uniqueSeed } from './support/requests.js';

const INTEGRITY_KEY = 'integrity-test-secret-0123456789abcdef';

/** Bytes that stand for an image in storage (the edge does not decode images), distinct per `n`. */
function pngLike(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, n & 255, (n >> 8) & 255, 1, 2, 3]);
}

async function poolCalls(env: EdgeTestEnv, seed: number): Promise<number> {
  const calls = (await (await fetch(`${env.upstreams.ok}/__calls`)).json()) as Record<string, number>;
  return calls[`ok:${seed}`] ?? 0;
}

/** A client address of its own per test: the Workers limiter's Durable Objects outlive one edge. */
function uniqueAddress(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}

/** The body the playground page posts for `req`. */
function playgroundBody(req: ImageRequest): string {
  return JSON.stringify({ model: req.model, class: req.class, guidance: req.guidance, interval: [req.tmin, req.tmax], seed: req.seed, size: req.size });
}

async function pageToken(edge: EdgeUnderTest, headers: Record<string, string> = {}): Promise<string> {
  const html = await (await edge.fetch('/', { headers })).text();
  return /name="playground-token" content="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
}

function playgroundSign(edge: EdgeUnderTest, token: string, req: ImageRequest, headers: Record<string, string> = {}): Promise<Response> {
  return edge.fetch('/playground/sign', { method: 'POST', headers: { 'content-type': 'application/json', 'x-playground-token': token, ...headers }, body: playgroundBody(req) });
}

/** Path and query of an absolute or relative URL. */
function target(url: string): string {
  const u = new URL(url, 'http://relative.invalid');
  return u.pathname + u.search;
}

async function problemOf(response: Response, status: number): Promise<{ detail: string; type: string }> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { detail: string; type: string };
}

export function abuseSuite(runtime: string, env: EdgeTestEnv, startEdge: StartEdge): void {
  const withEdge = async (overrides: Record<string, string>, run: (edge: EdgeUnderTest, key: string) => Promise<void>) => {
    // A key of its own per test, so its bucket starts full in either runtime.
    const key = `imf_test_key_abuse_${crypto.randomUUID()}`;
    const edge = await startEdge({
      API_KEY_HASHES: await hashApiKey(key),
      SIGNING_KEYS,
      WORKER_URLS: env.upstreams.ok,
      WORKER_SECRET: env.workerSecret,
      ALLOWED_HOSTS: 'edge.test,127.0.0.1',
      POOL_BACKOFF_BASE_MS: '5',
      ...overrides,
    });
    try {
      await run(edge, key);
    } finally {
      await edge.close();
    }
  };

  describe(`abuse resistance on ${runtime}`, () => {
    describe('the playground', () => {
      it('signs only for its own page: another site in Origin or Referer gets 403, the page itself and non-browsers 200', () =>
        withEdge({}, async (edge) => {
          const client = { 'cf-connecting-ip': uniqueAddress() };
          const token = await pageToken(edge, client);
          const own = runtime === 'workerd' ? 'https://edge.test' : new URL((await edge.fetch('/healthz')).url).origin;
          expect((await playgroundSign(edge, token, image(), { ...client, origin: 'https://evil.example' })).status).toBe(403);
          expect((await problemOf(await playgroundSign(edge, token, image(), { ...client, origin: 'null' }), 403)).type).toContain('forbidden-origin');
          expect((await playgroundSign(edge, token, image(), { ...client, referer: 'https://evil.example/page' })).status).toBe(403);
          expect((await playgroundSign(edge, token, image(), { ...client, origin: own })).status).toBe(200);
          expect((await playgroundSign(edge, token, image(), { ...client, referer: `${own}/` })).status).toBe(200);
          expect((await playgroundSign(edge, token, image(), client)).status).toBe(200);
        }));

      it('mints URLs that live PLAYGROUND_URL_TTL_SECONDS, not an hour', () =>
        withEdge({ PLAYGROUND_URL_TTL_SECONDS: '120' }, async (edge) => {
          const client = { 'cf-connecting-ip': uniqueAddress() };
          const minted = (await (await playgroundSign(edge, await pageToken(edge, client), image(), client)).json()) as { url: string; expires: number };
          expect(minted.expires - Date.now() / 1000).toBeLessThanOrEqual(121);
          expect(minted.url).toMatch(/&by=p\.[A-Za-z0-9_-]{16}&exp=/);
        }));

      it('charges fresh generations through its URLs to the page token: past the budget a 429, while cached images stay free', () =>
        withEdge({ PLAYGROUND_GENERATIONS_BURST: '2', PLAYGROUND_GENERATIONS_PER_MINUTE: '0.001' }, async (edge) => {
          const client = { 'cf-connecting-ip': uniqueAddress() };
          const token = await pageToken(edge, client);
          const urls: string[] = [];
          for (let i = 0; i < 3; i++) urls.push(((await (await playgroundSign(edge, token, image(), client)).json()) as { url: string }).url);
          const answers = [];
          for (const url of urls) answers.push(await edge.fetch(target(url), { headers: client }));
          expect(answers.map((r) => r.status)).toEqual([200, 200, 429]);
          expect(Number(answers[2]!.headers.get('retry-after'))).toBeGreaterThan(0);
          // An image already generated costs nothing: it comes from the edge cache.
          const again = await edge.fetch(target(urls[0]!), { headers: client });
          expect([again.status, again.headers.get('x-image-tier')]).toEqual([200, 'edge-cache']);
        }));

      it('charges them to the client too: a fresh page token does not reset the budget of the same client', () =>
        withEdge({ PLAYGROUND_GENERATIONS_BURST: '2', PLAYGROUND_GENERATIONS_PER_MINUTE: '0.001' }, async (edge) => {
          const client = { 'cf-connecting-ip': uniqueAddress() };
          const statuses = [];
          for (let i = 0; i < 3; i++) {
            const token = await pageToken(edge, client); // a new page load each time
            const { url } = (await (await playgroundSign(edge, token, image(), client)).json()) as { url: string };
            statuses.push((await edge.fetch(target(url), { headers: client })).status);
          }
          expect(statuses).toEqual([200, 200, 429]);
        }));

      it('PLAYGROUND=cached signs only images already stored and generates nothing', () =>
        withEdge({ PLAYGROUND: 'cached', STORAGE_INTEGRITY_KEY: INTEGRITY_KEY }, async (edge) => {
          const client = { 'cf-connecting-ip': uniqueAddress() };
          const token = await pageToken(edge, client);
          const missing = image();
          expect((await problemOf(await playgroundSign(edge, token, missing, client), 403)).type).toContain('generation-refused');
          const stored = image();
          const key = await imageKey(stored, model.version);
          const object = objectKey(stored, model.version, key);
          const body = pngLike(7);
          await edge.writeObject(object, { body, contentType: 'image/png', integrity: await integrityTag(INTEGRITY_KEY, object, { body, contentType: 'image/png' }) });
          const minted = await playgroundSign(edge, token, stored, client);
          expect(minted.status).toBe(200);
          const fetched = await edge.fetch(target(((await minted.json()) as { url: string }).url), { headers: client });
          expect(fetched.status).toBe(200);
          expect(new Uint8Array(await fetched.arrayBuffer())).toEqual(body);
          expect(await poolCalls(env, missing.seed)).toBe(0);
          expect(await poolCalls(env, stored.seed)).toBe(0);
        }));

      it('PLAYGROUND=off serves no page and signs nothing', () =>
        withEdge({ PLAYGROUND: 'off' }, async (edge) => {
          await problemOf(await edge.fetch('/'), 404);
          await problemOf(await edge.fetch('/playground/sign', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 404);
        }));
    });

    describe('signed URLs', () => {
      it('charges a generation through a key-signed URL to that key: past its bucket a 429, and nothing reaches the pool', () =>
        withEdge({ RATE_LIMIT_PER_MINUTE: '0.001', RATE_LIMIT_BURST: '3' }, async (edge, key) => {
          const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
          const reqs = [image(), image()];
          const urls = [];
          for (const req of reqs) {
            const signed = await edge.fetch('/v1/sign', { method: 'POST', headers: auth, body: JSON.stringify({ model: req.model, class: req.class, seed: req.seed }) });
            urls.push(((await signed.json()) as { url: string }).url); // two tokens spent signing
          }
          expect((await edge.fetch(target(urls[0]!))).status).toBe(200); // the third: a generation
          const refused = await edge.fetch(target(urls[1]!));
          expect(refused.status).toBe(429);
          expect(await poolCalls(env, reqs[1]!.seed)).toBe(0);
          // The first image is cached now: serving it again is free.
          expect((await edge.fetch(target(urls[0]!))).headers.get('x-image-tier')).toBe('edge-cache');
        }));

      it('accepts one spelling only: a zero-padded exp or a twin of the last signature character is a 403', () =>
        withEdge({}, async (edge, key) => {
          const signed = await signPath(canonicalPath(image()), parseSigningKeys(SIGNING_KEYS), Math.floor(Date.now() / 1000) + 60, keySigner(await hashApiKey(key)));
          expect((await edge.fetch(signed)).status).toBe(200);
          const exp = /exp=(\d+)/.exec(signed)![1]!;
          await problemOf(await edge.fetch(signed.replace(`exp=${exp}`, `exp=0${exp}`)), 403);
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
          const last = alphabet.indexOf(signed.at(-1)!);
          const twin = alphabet[last ^ 1]!;
          await problemOf(await edge.fetch(signed.slice(0, -1) + twin), 403);
        }));

      it('refuses to generate for a URL signed for no one it can charge', () =>
        withEdge({}, async (edge) => {
          const signed = await signPath(canonicalPath(image()), parseSigningKeys(SIGNING_KEYS), Math.floor(Date.now() / 1000) + 60, 'x.nobody');
          expect((await problemOf(await edge.fetch(signed), 403)).type).toContain('generation-refused');
        }));
    });

    describe('stored objects', () => {
      it('serves a stored object whose integrity tag matches, from storage', () =>
        withEdge({ STORAGE_INTEGRITY_KEY: INTEGRITY_KEY }, async (edge, key) => {
          const req = image();
          const object = objectKey(req, model.version, await imageKey(req, model.version));
          const body = pngLike(11);
          await edge.writeObject(object, { body, contentType: 'image/png', integrity: await integrityTag(INTEGRITY_KEY, object, { body, contentType: 'image/png' }) });
          const response = await edge.fetch(canonicalPath(req), { headers: { authorization: `Bearer ${key}` } });
          expect(response.headers.get('x-image-tier')).toBe('storage');
          expect(new Uint8Array(await response.arrayBuffer())).toEqual(body);
        }));

      it.each([
        ['no tag', async () => undefined],
        ['the tag of other bytes', async (object: string) => integrityTag(INTEGRITY_KEY, object, { body: pngLike(1), contentType: 'image/png' })],
        ['a tag made with another key', async (object: string, body: Uint8Array) => integrityTag('not-the-integrity-key-0123456789', object, { body, contentType: 'image/png' })],
        // The tag of the bytes as written, but the Content-Type changed afterwards (metadata rewritten around the workers).
        ['its Content-Type changed to text/html', async (object: string, body: Uint8Array) => integrityTag(INTEGRITY_KEY, object, { body, contentType: 'image/png' }), 'text/html'],
      ])('treats a stored object with %s as a miss: regenerated, logged, counted, never served or cached', (_name, tagFor, contentType = 'image/png') =>
        withEdge({ STORAGE_INTEGRITY_KEY: INTEGRITY_KEY }, async (edge, key) => {
          const auth = { authorization: `Bearer ${key}` };
          const req = image();
          const object = objectKey(req, model.version, await imageKey(req, model.version));
          const tampered = pngLike(99);
          const tag = await tagFor(object, tampered);
          await edge.writeObject(object, { body: tampered, contentType, ...(tag ? { integrity: tag } : {}) });
          const first = await edge.fetch(canonicalPath(req), { headers: auth });
          expect(first.headers.get('x-image-tier')).toBe('generated');
          expect(first.headers.get('content-type')).toBe('image/png');
          const served = new Uint8Array(await first.arrayBuffer());
          expect(served).not.toEqual(tampered);
          expect([...served.slice(0, 4)]).toEqual([137, 80, 78, 71]);
          expect(await poolCalls(env, req.seed)).toBe(1);
          expect(edge.logs).toContainEqual(expect.objectContaining({ event: 'storage-integrity-mismatch', object }));
          expect(((await (await edge.fetch('/readyz')).json()) as { integrity_failures: number }).integrity_failures).toBeGreaterThanOrEqual(1);
          const second = await edge.fetch(canonicalPath(req), { headers: auth });
          expect(second.headers.get('x-image-tier')).toBe('edge-cache');
          expect(new Uint8Array(await second.arrayBuffer())).toEqual(served);
        }),
      );
    });

    describe('origins', () => {
      it('without PUBLIC_ORIGIN and with the host not allowed, redirects and signs with relative URLs, never a cacheable absolute one', () =>
        withEdge({ ALLOWED_HOSTS: '' }, async (edge, key) => {
          const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
          const req = image();
          const redirect = await edge.fetch(`/v1/images/${model.id}/${req.class}.png?seed=${req.seed}`, { headers: auth, redirect: 'manual' });
          expect(redirect.status).toBe(302);
          expect(redirect.headers.get('location')).toBe(canonicalPath(req));
          const signed = (await (await edge.fetch('/v1/sign', { method: 'POST', headers: auth, body: JSON.stringify({ model: model.id, class: 1 }) })).json()) as { url: string };
          expect(signed.url.startsWith('/v1/images/')).toBe(true);
          const client = { 'cf-connecting-ip': uniqueAddress() };
          const minted = (await (await playgroundSign(edge, await pageToken(edge, client), image(), client)).json()) as { url: string };
          expect(minted.url.startsWith('/v1/images/')).toBe(true);
        }));

      it('with PUBLIC_ORIGIN, builds every absolute URL from it', () =>
        withEdge({ PUBLIC_ORIGIN: 'https://img.example', ALLOWED_HOSTS: '' }, async (edge, key) => {
          const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
          const redirect = await edge.fetch(`/v1/images/${model.id}/2.png?seed=5`, { headers: auth, redirect: 'manual' });
          expect(redirect.headers.get('location')).toMatch(/^https:\/\/img\.example\/v1\/images\//);
          const signed = (await (await edge.fetch('/v1/sign', { method: 'POST', headers: auth, body: JSON.stringify({ model: model.id, class: 1 }) })).json()) as { url: string };
          expect(signed.url).toMatch(/^https:\/\/img\.example\/v1\/images\//);
        }));
    });

    describe('small leaks', () => {
      it('answers an 8 KB query of repeated parameters with a small problem (at most 20 parameters named)', () =>
        withEdge({}, async (edge, key) => {
          // Repeated known parameters and invented ones, alternating, up to 8 KB.
          const parts: string[] = [];
          for (let i = 0; parts.join('&').length < 8000; i++) parts.push(i % 2 ? `${['seed', 'size', 'guidance'][i % 3]}=1` : `p${i}=1`);
          const query = parts.join('&');
          const response = await edge.fetch(`/v1/images/${model.id}/3.png?${query}`, { headers: { authorization: `Bearer ${key}` } });
          const text = await response.text();
          expect(response.status).toBe(400);
          expect(text.length).toBeLessThan(8 * 1024);
          expect((JSON.parse(text) as { errors: unknown[] }).errors.length).toBeLessThanOrEqual(20);
        }));

      it('reports &toString=1 and &__proto__=x as unknown parameters, not as given more than once', () =>
        withEdge({}, async (edge, key) => {
          for (const extra of ['toString=1', '__proto__=x', 'constructor=1']) {
            const response = await edge.fetch(`/v1/images/${model.id}/3.png?seed=1&${extra}`, { headers: { authorization: `Bearer ${key}` } });
            const body = (await problemOf(response, 400)) as unknown as { errors: { parameter: string; rule: string }[] };
            expect(body.errors).toEqual([expect.objectContaining({ parameter: extra.split('=')[0], rule: 'unknown' })]);
          }
        }));

      it('keeps a key sent as access_token (or any other secret-shaped parameter) out of the logs', () =>
        withEdge({}, async (edge, key) => {
          for (const name of ['access_token', 'api_key', 'apikey', 'auth', 'password']) await edge.fetch(`/v1/images/${model.id}/3.png?${name}=${key}`);
          expect(edge.logs.length).toBeGreaterThanOrEqual(5);
          expect(JSON.stringify(edge.logs)).not.toContain(key);
        }));
    });
  });
}
