// Prices by work and what a key sees it spent, at the edge: a generation costs its price by format
// and pixels (RateLimit-Remaining and GET /v1/usage both show it), an image a cache held one token,
// a batch pays only for what it delivered, and a signed URL's generation is charged to its signer.
// One suite, run in workerd (test/workers/) and on Node (test/node/), like behaviour.ts.
import { describe, expect, it } from 'vitest';
import { allowedSizes, canonicalPath, DEFAULT_QUALITY, generationTokens, isLossy, type ImageRequest, type ModelSummary } from '@imf/contract';
import { hashApiKey } from '../src/auth/index.js';
import type { EdgeUnderTest } from './behaviour.js';
import { largeModel } from './support/large-model.js';
import { model as small, uniqueSeed } from './support/requests.js';
import { SIGNING_KEYS, type EdgeTestEnv } from './support/env.js';

/** Starts an edge whose registry holds the shipped models and the large one. */
export type StartLargeEdge = (env: Record<string, string>) => Promise<EdgeUnderTest>;

const large = largeModel();
const BURST = 1000;

/** A canonical request: a lossy format carries its default quality, as the edge's parser fills it in. */
function request(of: ModelSummary, overrides: Partial<ImageRequest>): ImageRequest {
  const req: ImageRequest = { model: of.id, class: 1, guidance: of.guidance.default, tmin: of.interval.default[0], tmax: of.interval.default[1], seed: uniqueSeed(), format: 'png', size: of.image.width, ...overrides };
  return isLossy(req.format) && req.quality === undefined ? { ...req, quality: DEFAULT_QUALITY[req.format] } : req;
}

interface UsageBody {
  key: string;
  window: { generations: number; images: number; tokens: number; by: { model: string | null; size: number | null; format: string | null; generations: number; images: number; tokens: number }[] };
  last_24h: UsageBody['window'];
}

export function pricingBehaviour(runtime: string, env: EdgeTestEnv, startEdge: StartLargeEdge): void {
  /** An edge with a key of its own (a fresh bucket and book in either runtime) that barely refills. */
  const withEdge = async (overrides: Record<string, string>, run: (edge: EdgeUnderTest, auth: Record<string, string>) => Promise<void>) => {
    const key = `imf_test_pricing_${crypto.randomUUID()}`;
    const edge = await startEdge({
      API_KEY_HASHES: await hashApiKey(key),
      SIGNING_KEYS,
      WORKER_URLS: env.upstreams.ok,
      WORKER_SECRET: env.workerSecret,
      RATE_LIMIT_PER_MINUTE: '0.001',
      RATE_LIMIT_BURST: String(BURST),
      POOL_BACKOFF_BASE_MS: '5',
      ...overrides,
    });
    try {
      await run(edge, { authorization: `Bearer ${key}` });
    } finally {
      await edge.close();
    }
  };
  const remaining = (r: Response) => Number(r.headers.get('ratelimit-remaining'));
  const usage = async (edge: EdgeUnderTest, auth: Record<string, string>) => (await (await edge.fetch('/v1/usage', { headers: auth })).json()) as UsageBody;

  describe(`prices and usage on ${runtime}`, () => {
    it('charges a 1024-px image more tokens than a 28-px one, in RateLimit-Remaining and in /v1/usage', () =>
      withEdge({}, async (edge, auth) => {
        const tiny = request(small, { format: 'png', size: 28 });
        const big = request(large, { format: 'webp', size: 1024 });
        const first = await edge.fetch(canonicalPath(tiny), { headers: auth });
        expect(first.headers.get('x-image-tier')).toBe('generated');
        const second = await edge.fetch(canonicalPath(big), { headers: auth });
        expect(second.headers.get('x-image-tier')).toBe('generated');
        const tinyCost = BURST - remaining(first);
        const bigCost = remaining(first) - remaining(second);
        expect(tinyCost).toBe(generationTokens('png', 28));
        expect(bigCost).toBe(generationTokens('webp', 1024));
        expect(bigCost).toBeGreaterThan(tinyCost);
        // The same image again comes from the edge cache: one token, no generation.
        const again = await edge.fetch(canonicalPath(big), { headers: auth });
        expect(again.headers.get('x-image-tier')).toBe('edge-cache');
        expect(remaining(second) - remaining(again)).toBe(1);

        const spent = await usage(edge, auth);
        expect(spent.key).toMatch(/^[0-9a-f]{16}$/);
        for (const span of [spent.window, spent.last_24h]) {
          expect(span.by).toContainEqual({ model: small.id, size: 28, format: 'png', generations: 1, images: 1, tokens: tinyCost });
          expect(span.by).toContainEqual({ model: large.id, size: 1024, format: 'webp', generations: 1, images: 2, tokens: bigCost + 1 });
          // Everything the bucket lost is in the book, the usage read itself included.
          expect(span.tokens).toBe(BURST - remaining(again) + 1);
          expect(span.generations).toBe(2);
        }
      }));

    it('charges a batch that fails part-way only for what it delivered: generated images their price, a cached one a token', () =>
      withEdge({ WORKER_URLS: env.upstreams.half }, async (edge, auth) => {
        // PNG at the largest size: the costliest generation on the measured table, more than a token.
        const size = Math.max(...allowedSizes(large));
        const price = generationTokens('png', size);
        expect(price).toBeGreaterThan(1);
        const seed = (uniqueSeed() % 2 ** 30) * 2; // even: generated; odd seeds fail (503)
        const cached = await edge.fetch(canonicalPath(request(large, { format: 'png', size, seed })), { headers: auth });
        expect(cached.status).toBe(200);
        const before = remaining(cached);
        // seed: cached (1 token); seed + 1: fails (0); seed + 2: generated (price); seed + 3: fails (0).
        const batch = await edge.fetch('/v1/images', {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ model: large.id, class: 1, format: 'png', size, seed, n: 4 }),
        });
        expect(batch.status).toBe(503);
        expect(before - remaining(batch)).toBe(1 + price);
        const spent = (await usage(edge, auth)).last_24h;
        expect(spent.by).toContainEqual({ model: large.id, size, format: 'png', generations: 2, images: 3, tokens: price + 1 + price });
      }));

    it("charges a signed URL's generation its price to the key that signed it, and its cached answers nothing", () =>
      withEdge({}, async (edge, auth) => {
        const big = request(large, { format: 'png', size: 1024 });
        const signing = await edge.fetch('/v1/sign', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: large.id, class: 1, format: 'png', size: 1024, seed: big.seed }) });
        const { url } = (await signing.json()) as { url: string };
        const path = new URL(url, 'http://edge.test').pathname + new URL(url, 'http://edge.test').search;
        expect((await edge.fetch(path)).headers.get('x-image-tier')).toBe('generated');
        expect((await edge.fetch(path)).headers.get('x-image-tier')).toBe('edge-cache');
        const spent = (await usage(edge, auth)).last_24h;
        expect(spent.by).toContainEqual({ model: large.id, size: 1024, format: 'png', generations: 1, images: 1, tokens: generationTokens('png', 1024) });
        expect(spent.tokens).toBe(1 + generationTokens('png', 1024) + 1); // signing, the generation, this read
      }));

    it('lists the price of every format and size in /v1/models', () =>
      withEdge({}, async (edge) => {
        const { models } = (await (await edge.fetch('/v1/models')).json()) as { models: { id: string; prices: Record<string, Record<string, number>> }[] };
        const listed = models.find((m) => m.id === large.id)!;
        expect(Object.keys(listed.prices.webp!)).toEqual(allowedSizes(large).map(String));
        expect(listed.prices.webp!['1024']).toBe(generationTokens('webp', 1024));
        expect(listed.prices.webp!['1024']).toBeGreaterThan(models.find((m) => m.id === small.id)!.prices.png!['28']!);
      }));

    it('refuses a batch whose price is more than the bucket holds, naming n', () =>
      withEdge({ RATE_LIMIT_BURST: '60' }, async (edge, auth) => {
        const response = await edge.fetch('/v1/images', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: large.id, class: 1, format: 'png', size: 1024, n: 16 }) });
        expect(generationTokens('png', 1024) * 16).toBeGreaterThan(60);
        expect(response.status).toBe(400);
        const body = (await response.json()) as { errors: { parameter: string }[] };
        expect(body.errors).toContainEqual(expect.objectContaining({ parameter: 'n' }));
      }));

    it('answers /v1/usage only with a key', () =>
      withEdge({}, async (edge) => {
        expect((await edge.fetch('/v1/usage')).status).toBe(401);
      }));
  });
}
