// The edge's behaviour, as the public API promises it (shared/PRODUCT.md). One suite,
// run twice: inside workerd with the Workers adapters (test/workers/) and on Node over real HTTP
// with the Node adapters (test/node/). Upstreams and S3 are real servers from global-setup.ts.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUALITY,
  allowedSizes,
  canonicalPath,
  imageKey,
  objectKey,
  parseSigningKeys,
  signPath,
} from '@imf/contract';
import { keySigner } from '../src/access/index.js';
import { hashApiKey } from '../src/auth/index.js';
import { rendezvousOrder } from '../src/pool/rendezvous.js';
import type { ObjectWriter } from '../src/storage/adapters/test-objects.js';
import { image, model, uniqueSeed } from './support/requests.js';
import { API_KEY, RATE_LIMITED_KEY, REDIRECTED_KEY, RETIRED_SIGNING_KEY, SIGNING_KEYS, type EdgeTestEnv } from './support/env.js';

export interface EdgeUnderTest {
  /** A request to the edge; `path` is a path and query. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Puts an object into the storage this edge reads (the second tier), as a worker would. */
  writeObject: ObjectWriter;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export type StartEdge = (env: Record<string, string>) => Promise<EdgeUnderTest>;

const auth = { authorization: `Bearer ${API_KEY}` };
const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...auth, ...headers },
  body: JSON.stringify(body),
});

async function expectProblem(response: Response, status: number, parameter?: string, rule?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as { status: number; title: string; detail: string; type: string; errors?: { parameter: string; rule: string }[] };
  expect(body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
  expect(JSON.stringify(body)).not.toMatch(/\bat \S+:\d+|Error:/); // never a stack trace
  if (parameter) expect(body.errors).toContainEqual(expect.objectContaining({ parameter, ...(rule ? { rule } : {}) }));
  return body;
}

async function callsFor(env: EdgeTestEnv, mode: string, seed: number): Promise<number> {
  const calls = (await (await fetch(`${env.upstreams.ok}/__calls`)).json()) as Record<string, number>;
  return calls[`${mode}:${seed}`] ?? 0;
}

export function edgeBehaviour(runtime: string, env: EdgeTestEnv, startEdge: StartEdge): void {
  const baseEnv = async (overrides: Record<string, string> = {}) => ({
    API_KEY_HASHES: [await hashApiKey(API_KEY), await hashApiKey(RATE_LIMITED_KEY), await hashApiKey(REDIRECTED_KEY)].join(','),
    SIGNING_KEYS,
    WORKER_URLS: env.upstreams.ok,
    WORKER_SECRET: env.workerSecret,
    RATE_LIMIT_PER_MINUTE: '6000',
    RATE_LIMIT_BURST: '1000',
    POOL_BACKOFF_BASE_MS: '5',
    // The hosts the two harnesses use (workerd: edge.test; Node: 127.0.0.1 on a free port).
    ALLOWED_HOSTS: 'edge.test,127.0.0.1',
    ...overrides,
  });
  const withEdge = async (overrides: Record<string, string>, run: (edge: EdgeUnderTest) => Promise<void>) => {
    const edge = await startEdge(await baseEnv(overrides));
    try {
      await run(edge);
    } finally {
      await edge.close();
    }
  };

  describe(`edge behaviour on ${runtime}`, () => {
    describe('models', () => {
      it('lists each model with its classes, limits and defaults from the manifest', () =>
        withEdge({}, async (edge) => {
          const response = await edge.fetch('/v1/models');
          expect(response.status).toBe(200);
          const body = (await response.json()) as { models: Record<string, unknown>[] };
          expect(body.models).toContainEqual(
            expect.objectContaining({
              id: model.id,
              version: model.version,
              resolution: model.image.width,
              channels: model.image.channels,
              classes: model.classes,
              guidance: model.guidance,
              interval: model.interval.default,
              nfe: model.nfe,
              formats: ['png', 'webp', 'jpeg'],
              quality: { formats: ['webp', 'jpeg'], min: 1, max: 100, default: DEFAULT_QUALITY },
            }),
          );
        }));
    });

    describe('canonical URLs', () => {
      it('redirects a request with defaults left out to the full canonical URL', () =>
        withEdge({}, async (edge) => {
          const req = image();
          const response = await edge.fetch(`/v1/images/${model.id}/${req.class}.png?seed=${req.seed}`, { headers: auth, redirect: 'manual' });
          expect(response.status).toBe(302);
          expect(new URL(response.headers.get('location')!).pathname + new URL(response.headers.get('location')!).search).toBe(canonicalPath(req));
        }));

      it('redirects a class name to its index and normalises numbers', () =>
        withEdge({}, async (edge) => {
          const req = image({ class: model.null_class, guidance: model.guidance.min });
          const response = await edge.fetch(`/v1/images/${model.id}/null.png?guidance=${model.guidance.min}.000&seed=${req.seed}&size=${req.size}`, { headers: auth, redirect: 'manual' });
          expect(response.status).toBe(302);
          expect(response.headers.get('location')).toContain(canonicalPath(req));
        }));

      it('redirects a request without a seed to one with a fresh seed, never cached', () =>
        withEdge({}, async (edge) => {
          const first = await edge.fetch(`/v1/images/${model.id}/1.png`, { headers: auth, redirect: 'manual' });
          const second = await edge.fetch(`/v1/images/${model.id}/1.png`, { headers: auth, redirect: 'manual' });
          expect(first.status).toBe(302);
          expect(first.headers.get('cache-control')).toBe('no-store');
          const seedOf = (r: Response) => new URL(r.headers.get('location')!).searchParams.get('seed');
          expect(seedOf(first)).toMatch(/^\d+$/);
          expect(seedOf(first)).not.toBe(seedOf(second));
        }));

      it("redirects a lossy image without a quality to its format's default quality, a part of its key", () =>
        withEdge({}, async (edge) => {
          const req = image({ format: 'jpeg' });
          const response = await edge.fetch(`/v1/images/${model.id}/${req.class}.jpg?seed=${req.seed}`, { headers: auth, redirect: 'manual' });
          expect(response.status).toBe(302);
          const location = new URL(response.headers.get('location')!);
          expect(location.pathname + location.search).toBe(canonicalPath(req));
          expect(location.searchParams.get('quality')).toBe(String(DEFAULT_QUALITY.jpeg));
        }));

      it('serves the canonical URL itself', () =>
        withEdge({}, async (edge) => {
          const response = await edge.fetch(canonicalPath(image()), { headers: auth });
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toBe('image/png');
          expect([...new Uint8Array(await response.arrayBuffer()).slice(0, 4)]).toEqual([137, 80, 78, 71]);
        }));
    });

    describe('validation', () => {
      it.each([
        ['guidance out of range', `guidance=${model.guidance.max + 1}`, 'guidance', 'range'],
        ['interval in the wrong order', 'tmin=0.8&tmax=0.2', 'tmin', 'order'],
        ['seed beyond 32 bits', 'seed=4294967296', 'seed', 'range'],
        ['size outside the allowed set', 'size=100', 'size', 'enum'],
        ['an unknown parameter', 'steps=4', 'steps', 'unknown'],
        ['a quality with lossless PNG', 'quality=80', 'quality', 'unknown'],
      ])('answers 400 naming the parameter for %s', (_name, query, parameter, rule) =>
        withEdge({}, async (edge) => {
          await expectProblem(await edge.fetch(`/v1/images/${model.id}/3.png?${query}`, { headers: auth }), 400, parameter, rule);
        }),
      );

      it.each(['0', '101', '75.5', 'best'])('answers 400 naming quality for quality=%s', (quality) =>
        withEdge({}, async (edge) => {
          await expectProblem(await edge.fetch(`/v1/images/${model.id}/3.webp?quality=${quality}`, { headers: auth }), 400, 'quality', 'range');
          await expectProblem(await edge.fetch('/v1/images', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: model.id, class: 3, format: 'jpeg', quality: Number(quality) || 0 }) }), 400, 'quality', 'range');
        }),
      );

      it('answers 400 for an unknown class and format', () =>
        withEdge({}, async (edge) => {
          await expectProblem(await edge.fetch(`/v1/images/${model.id}/zebra.png`, { headers: auth }), 400, 'class', 'enum');
          await expectProblem(await edge.fetch(`/v1/images/${model.id}/3.gif`, { headers: auth }), 400, 'format', 'enum');
        }));

      it('answers 404 for an unknown model and an unknown route', () =>
        withEdge({}, async (edge) => {
          await expectProblem(await edge.fetch('/v1/images/no-such-model/3.png', { headers: auth }), 404, 'model');
          await expectProblem(await edge.fetch('/v2/nothing', { headers: auth }), 404);
        }));

      it('answers 405 with Allow for a known path asked with the wrong method', () =>
        withEdge({}, async (edge) => {
          const wrong = await edge.fetch('/v1/models', { method: 'DELETE', headers: auth });
          await expectProblem(wrong, 405);
          expect(wrong.headers.get('allow')).toBe('GET, HEAD');
          const put = await edge.fetch(`/v1/images/${model.id}/3.png`, { method: 'PUT', headers: auth });
          await expectProblem(put, 405);
          expect(put.headers.get('allow')).toBe('GET, HEAD');
          const get = await edge.fetch('/v1/sign', { headers: auth });
          await expectProblem(get, 405);
          expect(get.headers.get('allow')).toBe('POST');
        }));

      // A model registry is a plain object: ids must never reach Object.prototype's members.
      it('answers 404 for a model named like an object property (constructor, __proto__, toString)', () =>
        withEdge({}, async (edge) => {
          for (const name of ['constructor', '__proto__', 'toString']) {
            await expectProblem(await edge.fetch(`/v1/images/${name}/3.png`, { headers: auth }), 404, 'model');
            await expectProblem(await edge.fetch('/v1/images', json({ model: name, class: 1 })), 404, 'model');
            await expectProblem(await edge.fetch('/v1/sign', json({ model: name, class: 1 })), 404, 'model');
          }
        }));

      it('answers 400 for a JSON body with unknown or mistyped fields', () =>
        withEdge({}, async (edge) => {
          await expectProblem(await edge.fetch('/v1/images', json({ model: model.id, class: 1, steps: 2 })), 400, 'steps', 'unknown');
          await expectProblem(await edge.fetch('/v1/images', json({ model: model.id, class: 1, n: 17 })), 400, 'n', 'range');
          await expectProblem(await edge.fetch('/v1/images', json({ model: model.id, class: 1, interval: [0.5, 0.1] })), 400, 'interval[0]', 'order');
          await expectProblem(await edge.fetch('/v1/images', { ...json({}), body: '{not json' }), 400, '(body)', 'format');
        }));

      it('answers 413 for a body over 16 KB and 415 for a body that is not JSON', () =>
        withEdge({}, async (edge) => {
          const big = { model: model.id, class: 1, pad: 'x'.repeat(17 * 1024) };
          await expectProblem(await edge.fetch('/v1/images', json(big)), 413);
          await expectProblem(await edge.fetch('/v1/sign', json(big)), 413);
          await expectProblem(await edge.fetch('/v1/images', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hi' }), 415, 'content-type');
        }));

      it('answers 413 for a streamed body without Content-Length once it passes 16 KB', () =>
        withEdge({}, async (edge) => {
          const chunk = new TextEncoder().encode(' '.repeat(4096));
          let sent = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (sent++ < 8) controller.enqueue(chunk);
              else controller.close();
            },
          });
          const init = { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit;
          await expectProblem(await edge.fetch('/v1/images', init), 413);
        }));
    });

    describe('authentication', () => {
      it('answers 401 without a key and with a wrong key', () =>
        withEdge({}, async (edge) => {
          const path = canonicalPath(image());
          const none = await edge.fetch(path);
          expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
          await expectProblem(none, 401);
          await expectProblem(await edge.fetch(path, { headers: { authorization: 'Bearer imf_wrong_key_0000000000' } }), 401);
          await expectProblem(await edge.fetch('/v1/images', { ...json({ model: model.id, class: 1 }), headers: { 'content-type': 'application/json' } }), 401);
        }));

      it('keeps API keys and signatures out of the logs', () =>
        withEdge({}, async (edge) => {
          const signed = (await (await edge.fetch('/v1/sign', json({ model: model.id, class: 2, seed: uniqueSeed() }))).json()) as { url: string };
          const sig = new URL(signed.url).searchParams.get('sig')!;
          await edge.fetch(new URL(signed.url).pathname + new URL(signed.url).search);
          const text = JSON.stringify(edge.logs);
          expect(edge.logs.length).toBeGreaterThan(0);
          expect(text).not.toContain(API_KEY);
          expect(text).not.toContain(sig);
        }));
    });

    describe('signed URLs', () => {
      it('mints a URL anyone can fetch until it expires', () =>
        withEdge({}, async (edge) => {
          const seed = uniqueSeed();
          const response = await edge.fetch('/v1/sign', json({ model: model.id, class: 4, seed }));
          expect(response.status).toBe(200);
          const { url, expires } = (await response.json()) as { url: string; expires: number };
          expect(expires).toBeGreaterThan(Date.now() / 1000);
          const u = new URL(url);
          expect(u.pathname + u.search).toMatch(new RegExp(`^${canonicalPath(image({ class: 4, seed })).replace(/[?.]/g, '\\$&')}&by=k\\.[0-9a-f]{16}&exp=\\d+&kid=k2&sig=`));
          const fetched = await edge.fetch(u.pathname + u.search);
          expect(fetched.status).toBe(200);
          expect(fetched.headers.get('content-type')).toBe('image/png');
        }));

      it('answers 403 for a tampered, an expired and an unknown-kid URL', () =>
        withEdge({}, async (edge) => {
          const ring = parseSigningKeys(SIGNING_KEYS);
          const req = image();
          const by = keySigner(await hashApiKey(API_KEY));
          const valid = await signPath(canonicalPath(req), ring, Math.floor(Date.now() / 1000) + 60, by);
          await expectProblem(await edge.fetch(valid.replace(`seed=${req.seed}`, `seed=${(req.seed + 1) % 2 ** 32}`)), 403, 'sig');
          await expectProblem(await edge.fetch(await signPath(canonicalPath(req), ring, Math.floor(Date.now() / 1000) - 1, by)), 403, 'exp');
          await expectProblem(await edge.fetch(await signPath(canonicalPath(req), parseSigningKeys(RETIRED_SIGNING_KEY), Math.floor(Date.now() / 1000) + 60, by)), 403, 'kid');
        }));

      it('gives the same image signed again within a window one URL, living at least the TTL', () =>
        withEdge({ SIGNED_URL_TTL_SECONDS: '60', SIGNED_URL_WINDOW_SECONDS: '86400' }, async (edge) => {
          const seed = uniqueSeed();
          const sign = async () => (await (await edge.fetch('/v1/sign', json({ model: model.id, class: 4, seed }))).json()) as { url: string; expires: number };
          const first = await sign();
          await new Promise((resolve) => setTimeout(resolve, 1100)); // a later second: an exact expiry would differ
          const second = await sign();
          const batch = (await (await edge.fetch('/v1/images', json({ model: model.id, class: 4, seed }))).json()) as { images: { signed_url: string }[] };
          expect(second.url).toBe(first.url);
          expect(batch.images[0]!.signed_url).toBe(first.url);
          expect(first.expires % 86400).toBe(0);
          expect(first.expires - Date.now() / 1000).toBeGreaterThanOrEqual(59);
          expect((await edge.fetch(new URL(first.url).pathname + new URL(first.url).search)).status).toBe(200);
        }));

      it('serves what a revoked key signed from storage, and refuses to generate for it', () =>
        withEdge({}, async (edge) => {
          const ring = parseSigningKeys(SIGNING_KEYS);
          const revoked = keySigner(await hashApiKey('imf_test_key_revoked_0123456')); // not in API_KEY_HASHES
          const expires = Math.floor(Date.now() / 1000) + 60;
          const stored = image({ format: 'webp' });
          await edge.writeObject(objectKey(stored, model.version, await imageKey(stored, model.version)), { body: new Uint8Array([82, 73, 70, 70, 9]), contentType: 'image/webp' });
          const served = await edge.fetch(await signPath(canonicalPath(stored), ring, expires, revoked));
          expect(served.status).toBe(200);
          expect(served.headers.get('x-image-tier')).toBe('storage');
          const fresh = image();
          const refused = await expectProblem(await edge.fetch(await signPath(canonicalPath(fresh), ring, expires, revoked)), 403, 'by');
          expect(refused.detail).toMatch(/no longer valid/);
          expect(await callsFor(env, 'ok', fresh.seed)).toBe(0);
          // The same URL signed by a valid key generates.
          expect((await edge.fetch(await signPath(canonicalPath(fresh), ring, expires, keySigner(await hashApiKey(API_KEY))))).status).toBe(200);
        }));

      it('accepts URLs signed with an older key still in the ring (rotation)', () =>
        withEdge({}, async (edge) => {
          const older = parseSigningKeys(SIGNING_KEYS).filter((k) => k.kid === 'k1');
          const url = await signPath(canonicalPath(image()), older, Math.floor(Date.now() / 1000) + 60, keySigner(await hashApiKey(API_KEY)));
          expect((await edge.fetch(url)).status).toBe(200);
        }));
    });

    describe('tiers', () => {
      it('generates on a miss, then answers from the edge cache, with ETag and immutable caching', () =>
        withEdge({}, async (edge) => {
          const req = image();
          const first = await edge.fetch(canonicalPath(req), { headers: auth });
          expect(first.status).toBe(200);
          expect(first.headers.get('x-image-tier')).toBe('generated');
          expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
          expect(first.headers.get('etag')).toBe(`"${await imageKey(req, model.version)}"`);
          const bytes = new Uint8Array(await first.arrayBuffer());
          const second = await edge.fetch(canonicalPath(req), { headers: auth });
          expect(second.headers.get('x-image-tier')).toBe('edge-cache');
          expect(new Uint8Array(await second.arrayBuffer())).toEqual(bytes);
          expect(await callsFor(env, 'ok', req.seed)).toBe(1);
          // Each request's log line names the tier that answered it.
          const lines = edge.logs.filter((line) => line.path === canonicalPath(req));
          expect(lines.map((line) => [line.status, line.tier])).toEqual([
            [200, 'generated'],
            [200, 'edge-cache'],
          ]);
        }));

      it('answers from storage without touching the pool', () =>
        withEdge({}, async (edge) => {
          const req = image({ format: 'webp', size: allowedSizes(model)[1]! });
          const key = await imageKey(req, model.version);
          await edge.writeObject(objectKey(req, model.version, key), { body: new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4]), contentType: 'image/webp' });
          const response = await edge.fetch(canonicalPath(req), { headers: auth });
          expect(response.status).toBe(200);
          expect(response.headers.get('x-image-tier')).toBe('storage');
          expect(response.headers.get('content-type')).toBe('image/webp');
          expect(await callsFor(env, 'ok', req.seed)).toBe(0);
          expect((await edge.fetch(canonicalPath(req), { headers: auth })).headers.get('x-image-tier')).toBe('edge-cache');
        }));

      it('answers 304 to If-None-Match with the ETag', () =>
        withEdge({}, async (edge) => {
          const path = canonicalPath(image());
          const etag = (await edge.fetch(path, { headers: auth })).headers.get('etag')!;
          const again = await edge.fetch(path, { headers: { ...auth, 'if-none-match': etag } });
          expect(again.status).toBe(304);
          expect(again.headers.get('etag')).toBe(etag);
          expect(await again.text()).toBe('');
        }));

      it('generates n images with consecutive seeds and returns their canonical URLs', () =>
        withEdge({}, async (edge) => {
          const seed = uniqueSeed() % 2 ** 31;
          const response = await edge.fetch('/v1/images', json({ model: model.id, class: model.classes[7], seed, n: 3 }));
          expect(response.status).toBe(200);
          const body = (await response.json()) as { images: { url: string; seed: number; signed_url: string; tier: string }[] };
          expect(body.images.map((i) => i.seed)).toEqual([seed, seed + 1, seed + 2]);
          expect(new URL(body.images[1]!.url).pathname + new URL(body.images[1]!.url).search).toBe(canonicalPath(image({ class: 7, seed: seed + 1 })));
          const signed = new URL(body.images[2]!.signed_url);
          const fetched = await edge.fetch(signed.pathname + signed.search);
          expect(fetched.headers.get('x-image-tier')).toBe('edge-cache');
        }));
    });

    describe('requests by JSON', () => {
      it('answers 404 for an unknown model in a body and 400 for n ≠ 1 when signing', () =>
        withEdge({}, async (edge) => {
          await expectProblem(await edge.fetch('/v1/images', json({ model: 'no-such-model', class: 1 })), 404, 'model');
          await expectProblem(await edge.fetch('/v1/sign', json({ model: model.id, class: 1, n: 2 })), 400, 'n', 'range');
        }));

      it('charges a batch of n images n tokens', () =>
        withEdge({ RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '16' }, async (edge) => {
          const response = await edge.fetch('/v1/images', json({ model: model.id, class: 1, n: 4, seed: uniqueSeed() % 2 ** 31 }));
          expect(response.status).toBe(200);
          const remaining = Number(response.headers.get('ratelimit-remaining'));
          expect(remaining).toBeLessThanOrEqual(12);
        }));

      it('answers HEAD like GET, without a body', () =>
        withEdge({}, async (edge) => {
          const path = canonicalPath(image());
          await (await edge.fetch(path, { headers: auth })).arrayBuffer();
          const head = await edge.fetch(path, { method: 'HEAD', headers: auth });
          expect(head.status).toBe(200);
          expect(head.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
          expect(await head.text()).toBe('');
        }));
    });

    describe('rate limits', () => {
      it('sends RateLimit headers and answers 429 with Retry-After past the burst', () =>
        withEdge({ RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_BURST: '2' }, async (edge) => {
          const headers = { authorization: `Bearer ${RATE_LIMITED_KEY}` };
          const first = await edge.fetch('/v1/sign', { ...json({ model: model.id, class: 1 }), headers: { ...headers, 'content-type': 'application/json' } });
          expect(first.status).toBe(200);
          expect(first.headers.get('ratelimit-limit')).toBe('2');
          expect(first.headers.get('ratelimit-remaining')).toBe('1');
          expect(first.headers.get('ratelimit-reset')).toMatch(/^\d+$/);
          await edge.fetch(canonicalPath(image()), { headers });
          const limited = await edge.fetch(canonicalPath(image()), { headers });
          expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          expect(limited.headers.get('ratelimit-remaining')).toBe('0');
          await expectProblem(limited, 429);
          // Another key has its own bucket.
          expect((await edge.fetch(canonicalPath(image()), { headers: auth })).status).toBe(200);
        }));

      it('charges an image reached through a redirect one token, as its canonical URL alone: the redirect is free', () =>
        withEdge({ RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '1' }, async (edge) => {
          const headers = { authorization: `Bearer ${REDIRECTED_KEY}` };
          const req = image();
          const shorthand = `/v1/images/${model.id}/${req.class}.png?seed=${req.seed}`;
          const redirects = [await edge.fetch(shorthand, { headers, redirect: 'manual' }), await edge.fetch(shorthand, { headers, redirect: 'manual' })];
          expect(redirects.map((r) => [r.status, r.headers.get('ratelimit-remaining')])).toEqual([
            [302, null],
            [302, null],
          ]);
          const location = new URL(redirects[0]!.headers.get('location')!);
          const followed = await edge.fetch(location.pathname + location.search, { headers });
          expect(followed.status).toBe(200);
          expect(followed.headers.get('ratelimit-remaining')).toBe('0');
          await expectProblem(await edge.fetch(location.pathname + location.search, { headers }), 429);
        }));
    });

    describe('GPU pool', () => {
      it('fails over from a refusing worker to the next, in rendezvous order', () =>
        withEdge({ WORKER_URLS: `${env.upstreams.refused},${env.upstreams.ok}` }, async (edge) => {
          // A seed whose key ranks the refusing worker first, so the failover really happens.
          let req = image();
          while (rendezvousOrder([env.upstreams.refused, env.upstreams.ok], await imageKey(req, model.version))[0] !== env.upstreams.refused) req = image();
          const response = await edge.fetch(canonicalPath(req), { headers: auth });
          expect(response.status).toBe(200);
          expect(response.headers.get('x-image-tier')).toBe('generated');
          expect(await callsFor(env, 'ok', req.seed)).toBe(1);
        }));

      it('tries the next worker when one serves another model version (409), and keeps its circuit closed', () =>
        withEdge({ WORKER_URLS: `${env.upstreams.otherVersion},${env.upstreams.ok}`, POOL_BREAKER_THRESHOLD: '1' }, async (edge) => {
          // Seeds whose keys rank the other-version worker first: with a threshold of one failure,
          // a 409 counted as a failure would keep every later call away from it.
          const requests = [];
          while (requests.length < 3) {
            const req = image();
            if (rendezvousOrder([env.upstreams.otherVersion, env.upstreams.ok], await imageKey(req, model.version))[0] === env.upstreams.otherVersion) requests.push(req);
          }
          for (const req of requests) {
            const response = await edge.fetch(canonicalPath(req), { headers: auth });
            expect(response.status).toBe(200);
            expect(await callsFor(env, 'other-version', req.seed)).toBe(1);
            expect(await callsFor(env, 'ok', req.seed)).toBe(1);
          }
        }));

      it('answers 503 with Retry-After naming the model version when no worker serves it', () =>
        withEdge({ WORKER_URLS: env.upstreams.otherVersion }, async (edge) => {
          const response = await edge.fetch(canonicalPath(image()), { headers: auth });
          expect(response.headers.get('retry-after')).toBe('30');
          const body = await expectProblem(response, 503);
          expect(body.detail).toContain(`no GPU worker serves model ${model.id} version ${model.version}`);
        }));

      it('answers 502, and caches nothing, when a worker answers an image under another key', () =>
        withEdge({ WORKER_URLS: env.upstreams.wrongKey, POOL_BREAKER_THRESHOLD: '5' }, async (edge) => {
          const req = image();
          await expectProblem(await edge.fetch(canonicalPath(req), { headers: auth }), 502);
          await expectProblem(await edge.fetch(canonicalPath(req), { headers: auth }), 502);
          expect(await callsFor(env, 'wrong-key', req.seed)).toBe(2);
        }));

      it('answers 503 with Retry-After when every worker is busy', () =>
        withEdge({ WORKER_URLS: env.upstreams.busy }, async (edge) => {
          const response = await edge.fetch(canonicalPath(image()), { headers: auth });
          expect(response.headers.get('retry-after')).toBe('2');
          await expectProblem(response, 503);
        }));

      it('answers 503 with Retry-After when no worker is configured', () =>
        withEdge({ WORKER_URLS: '' }, async (edge) => {
          const response = await edge.fetch(canonicalPath(image()), { headers: auth });
          expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
          await expectProblem(response, 503);
        }));

      it('answers 503 with Retry-After at once, without calling it, when a worker has POOL_MAX_IN_FLIGHT calls in flight', () =>
        withEdge({ WORKER_URLS: env.upstreams.slow, POOL_MAX_IN_FLIGHT: '1' }, async (edge) => {
          const first = edge.fetch(canonicalPath(image()), { headers: auth });
          await new Promise((resolve) => setTimeout(resolve, 500));
          const seed = uniqueSeed();
          const started = Date.now();
          const second = await edge.fetch(canonicalPath(image({ seed })), { headers: auth });
          expect(Date.now() - started).toBeLessThan(1500);
          expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          expect((await expectProblem(second, 503)).detail).toMatch(/in flight/);
          expect(await callsFor(env, 'slow', seed)).toBe(0);
          expect((await first).status).toBe(200);
        }));

      it('answers 504 with Retry-After at the deadline', () =>
        withEdge({ WORKER_URLS: env.upstreams.slow, POOL_DEADLINE_MS: '300' }, async (edge) => {
          const started = Date.now();
          const response = await edge.fetch(canonicalPath(image()), { headers: auth });
          expect(Date.now() - started).toBeLessThan(2500);
          expect(response.headers.get('retry-after')).toBeTruthy();
          await expectProblem(response, 504);
        }));

      it('opens the circuit after repeated failures and stops calling the worker', () =>
        withEdge({ WORKER_URLS: env.upstreams.broken, POOL_BREAKER_THRESHOLD: '2', POOL_BREAKER_COOLDOWN_MS: '60000' }, async (edge) => {
          const seeds = [uniqueSeed(), uniqueSeed(), uniqueSeed()];
          for (const seed of seeds.slice(0, 2)) await expectProblem(await edge.fetch(canonicalPath(image({ seed })), { headers: auth }), 503);
          const open = await edge.fetch(canonicalPath(image({ seed: seeds[2] })), { headers: auth });
          expect(Number(open.headers.get('retry-after'))).toBeGreaterThanOrEqual(50);
          const body = await expectProblem(open, 503);
          expect(body.detail).toMatch(/circuit open/);
          expect(await callsFor(env, 'broken', seeds[0]!)).toBe(1);
          expect(await callsFor(env, 'broken', seeds[2]!)).toBe(0);
        }));

      it('sends the shared secret: a worker that rejects it gives 502', () =>
        withEdge({ WORKER_SECRET: 'not-the-secret' }, async (edge) => {
          await expectProblem(await edge.fetch(canonicalPath(image()), { headers: auth }), 502);
        }));
    });

    describe('operations', () => {
      it('is live, and ready only with a ready worker', async () => {
        await withEdge({}, async (edge) => {
          expect((await edge.fetch('/healthz')).status).toBe(200);
          const ready = await edge.fetch('/readyz');
          expect(ready.status).toBe(200);
          expect(await ready.json()).toMatchObject({ status: 'ready', pool: { ready: 1, total: 1 } });
        });
        await withEdge({ WORKER_URLS: `${env.upstreams.refused},${env.upstreams.broken}` }, async (edge) => {
          const ready = await edge.fetch('/readyz');
          expect(ready.status).toBe(503);
          expect(await ready.json()).toMatchObject({ status: 'unready', pool: { ready: 0, total: 2 } });
        });
      });

      it('sends security headers everywhere and a CSP on pages', () =>
        withEdge({}, async (edge) => {
          const api = await edge.fetch('/v1/models');
          expect(api.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
          expect(api.headers.get('x-content-type-options')).toBe('nosniff');
          const page = await edge.fetch('/');
          expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
        }));

      it('sends security and CORS headers on images and on 304s too', () =>
        withEdge({}, async (edge) => {
          const path = canonicalPath(image());
          const headers = { ...auth, origin: 'https://app.example' };
          const first = await edge.fetch(path, { headers });
          expect(first.status).toBe(200);
          const again = await edge.fetch(path, { headers: { ...headers, 'if-none-match': first.headers.get('etag')! } });
          expect(again.status).toBe(304);
          for (const response of [first, again]) {
            expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
            expect(response.headers.get('x-content-type-options')).toBe('nosniff');
            expect(response.headers.get('access-control-allow-origin')).toBe('*');
            expect(response.headers.get('access-control-expose-headers')).toContain('ETag');
          }
        }));

      it('answers CORS preflights for the API', () =>
        withEdge({}, async (edge) => {
          const response = await edge.fetch('/v1/images', {
            method: 'OPTIONS',
            headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
          });
          expect(response.status).toBe(204);
          expect(response.headers.get('access-control-allow-origin')).toBe('*');
          expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
        }));
    });

    describe('documents and pages', () => {
      it('publishes an OpenAPI document whose paths are exactly the routes', () =>
        withEdge({}, async (edge) => {
          const doc = (await (await edge.fetch('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
          expect(doc.openapi).toBe('3.1.0');
          expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/readyz', '/v1/images', '/v1/images/{model}/{file}', '/v1/models', '/v1/models/{model}/classes', '/v1/sign', '/v1/usage']);
          const imageParams = (doc.paths['/v1/images/{model}/{file}']!.get as { parameters: { name: string; description?: string }[] }).parameters;
          expect(imageParams.find((p) => p.name === 'quality')?.description).toMatch(/WebP and JPEG only/);
          for (const [path, methods] of Object.entries(doc.paths)) {
            for (const method of Object.keys(methods)) {
              const concrete = path.replace('{model}', model.id).replace('{file}', '3.png');
              const response = await edge.fetch(concrete, { method: method.toUpperCase(), redirect: 'manual' });
              const body = response.headers.get('content-type') === 'application/problem+json' ? ((await response.json()) as { detail: string }) : undefined;
              expect(body?.detail ?? '', `${method} ${path}`).not.toMatch(/^no route/);
            }
          }
        }));

      it('serves a docs page', () =>
        withEdge({}, async (edge) => {
          const page = await edge.fetch('/docs');
          expect(page.status).toBe(200);
          expect(await page.text()).toContain('/v1/images/{model}/{file}');
        }));

      it('serves a playground whose page token mints short-lived signed URLs, and nothing without it', () =>
        withEdge({}, async (edge) => {
          const html = await (await edge.fetch('/')).text();
          expect(html).not.toContain(API_KEY);
          const token = /name="playground-token" content="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
          const body = JSON.stringify({ model: model.id, class: 5, guidance: model.guidance.default, seed: uniqueSeed(), size: allowedSizes(model)[2] });
          const minted = await edge.fetch('/playground/sign', { method: 'POST', headers: { 'content-type': 'application/json', 'x-playground-token': token }, body });
          expect(minted.status).toBe(200);
          const { url } = (await minted.json()) as { url: string };
          const u = new URL(url);
          expect((await edge.fetch(u.pathname + u.search)).status).toBe(200);
          await expectProblem(await edge.fetch('/playground/sign', { method: 'POST', headers: { 'content-type': 'application/json' }, body }), 403);
          expect((await edge.fetch('/playground.js')).headers.get('content-type')).toContain('javascript');
        }));
    });
  });
}
