// Named classes and per-model limits at the edge (a model like ImageNet-256's, with many named
// classes): the class segment takes a slug and redirects to the index, /v1/models stays small and
// the class list is searchable, guidance limits and the pool deadline come from the model. One
// suite, run in workerd (test/workers/) and on Node (test/node/), like behaviour.ts.
import { describe, expect, it } from 'vitest';
import { canonicalPath, defaultQuality, classSlug, type ImageRequest } from '@imf/contract';
import { hashApiKey } from '../src/auth/index.js';
import type { EdgeUnderTest } from './behaviour.js';
import { namedModel } from './support/named-model.js';
import { API_KEY, SIGNING_KEYS, type EdgeTestEnv } from './support/env.js';

/** Starts an edge whose registry holds the shipped models and the named model. */
export type StartNamedEdge = (env: Record<string, string>) => Promise<EdgeUnderTest>;

const model = namedModel();
const auth = { authorization: `Bearer ${API_KEY}` };

function image(overrides: Partial<ImageRequest> = {}): ImageRequest {
  return { model: model.id, class: 2, guidance: model.guidance.default, tmin: model.interval.default[0], tmax: model.interval.default[1], seed: crypto.getRandomValues(new Uint32Array(1))[0]!, format: 'png', size: model.image.width, ...defaultQuality(overrides.format ?? 'png'), ...overrides };
}

async function problemOf(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { detail: string; errors?: { parameter: string; rule: string }[] };
}

export function namedClassBehaviour(runtime: string, env: EdgeTestEnv, startEdge: StartNamedEdge): void {
  const withEdge = async (overrides: Record<string, string>, run: (edge: EdgeUnderTest) => Promise<void>) => {
    const edge = await startEdge({
      API_KEY_HASHES: await hashApiKey(API_KEY),
      SIGNING_KEYS,
      WORKER_URLS: env.upstreams.ok,
      WORKER_SECRET: env.workerSecret,
      RATE_LIMIT_PER_MINUTE: '6000',
      RATE_LIMIT_BURST: '1000',
      ...overrides,
    });
    try {
      await run(edge);
    } finally {
      await edge.close();
    }
  };

  describe(`named classes on ${runtime}`, () => {
    it('redirects a class slug to the canonical URL with its index', () =>
      withEdge({}, async (edge) => {
        const req = image({ class: 2 });
        const response = await edge.fetch(`/v1/images/${model.id}/golden-retriever.png?seed=${req.seed}`, { headers: auth, redirect: 'manual' });
        expect(response.status).toBe(302);
        const location = new URL(response.headers.get('location')!, 'https://edge.test');
        expect(location.pathname + location.search).toBe(canonicalPath(req));
      }));

    it('redirects .jpg to .jpeg, and serves the canonical URL', () =>
      withEdge({}, async (edge) => {
        const req = image({ format: 'jpeg' });
        const response = await edge.fetch(`/v1/images/${model.id}/2.jpg?seed=${req.seed}`, { headers: auth, redirect: 'manual' });
        expect(response.status).toBe(302);
        expect(response.headers.get('location')).toContain(canonicalPath(req));
      }));

    it('answers an unknown name with a problem that points to the class list, not 150 names', () =>
      withEdge({}, async (edge) => {
        const body = await problemOf(await edge.fetch(`/v1/images/${model.id}/zebra.png?seed=1`, { headers: auth }), 400);
        expect(body.errors).toContainEqual(expect.objectContaining({ parameter: 'class', rule: 'enum' }));
        expect(body.detail).toContain(`/v1/models/${model.id}/classes`);
        expect(body.detail.length).toBeLessThan(400);
      }));

    it("takes guidance up to the model's own maximum (12 here), not another model's", () =>
      withEdge({}, async (edge) => {
        const ok = await edge.fetch(canonicalPath(image({ guidance: 12 })), { headers: auth });
        expect(ok.status).toBe(200);
        await ok.arrayBuffer();
        const body = await problemOf(await edge.fetch(canonicalPath(image({ guidance: 12.5 })), { headers: auth }), 400);
        expect(body.errors).toContainEqual(expect.objectContaining({ parameter: 'guidance', rule: 'range' }));
      }));

    it("waits for a slow model's image as long as its time per image allows", () =>
      // The slow upstream answers after 3 s; the base deadline is 0.3 s, the model's allowance 4 × 1 s.
      withEdge({ WORKER_URLS: env.upstreams.slow, POOL_DEADLINE_MS: '300' }, async (edge) => {
        const response = await edge.fetch(canonicalPath(image()), { headers: auth });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }));

    it('keeps /v1/models small: a count and a link instead of many names', () =>
      withEdge({}, async (edge) => {
        const body = (await (await edge.fetch('/v1/models')).json()) as { models: Record<string, unknown>[] };
        const listed = body.models.find((m) => m.id === model.id)!;
        expect(listed).toMatchObject({ class_count: 150, classes_url: `/v1/models/${model.id}/classes`, color: 'rgb', guidance: { min: 1, max: 12, default: 8 }, seconds_per_image: 1 });
        expect(listed.classes).toBeUndefined();
        expect(listed.formats).toEqual(['png', 'webp', 'jpeg']);
      }));

    it('lists every class with its index, name and slug', () =>
      withEdge({}, async (edge) => {
        const response = await edge.fetch(`/v1/models/${model.id}/classes`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { total: number; classes: { index: number; name: string; slug: string }[] };
        expect(body.total).toBe(150);
        expect(body.classes).toHaveLength(150);
        expect(body.classes[6]).toEqual({ index: 6, name: "jack-o'-lantern", slug: classSlug("jack-o'-lantern") });
      }));

    it('searches classes by name, exact and word starts first', () =>
      withEdge({}, async (edge) => {
        const search = async (q: string, extra = '') => (await (await edge.fetch(`/v1/models/${model.id}/classes?q=${encodeURIComponent(q)}${extra}`)).json()) as { total: number; classes: { name: string }[] };
        expect((await search('retriever')).classes.map((c) => c.name)).toEqual(['Golden Retriever', 'Labrador Retriever']);
        expect((await search('PANDA')).classes.map((c) => c.name)).toEqual(['giant panda', 'red panda']);
        expect((await search('gold')).classes.map((c) => c.name)).toEqual(['goldfish', 'Golden Retriever']);
        const paged = await search('class number', '&limit=5&offset=5');
        expect([paged.total, paged.classes.length, paged.classes[0]!.name]).toEqual([142, 5, 'class number 13']);
      }));

    it('answers bad class-list parameters and unknown models with problems', () =>
      withEdge({}, async (edge) => {
        const bad = await problemOf(await edge.fetch(`/v1/models/${model.id}/classes?limit=0&sort=name`), 400);
        expect(bad.errors).toEqual(expect.arrayContaining([expect.objectContaining({ parameter: 'limit', rule: 'range' }), expect.objectContaining({ parameter: 'sort', rule: 'unknown' })]));
        await problemOf(await edge.fetch('/v1/models/no-such-model/classes'), 404);
      }));
  });
}
