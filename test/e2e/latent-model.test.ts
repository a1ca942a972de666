// A latent model through the real stack (SeaweedFS, a GPU worker, the edge on Node): a tiny
// random-weight import of the official architecture, its VAE decoder inside its one graph, built into a folder of
// this test's own and served from there, as `npm start` serves an imported models/<id>/. Named
// classes (and the playground's search over them), RGB pixels equal to the Python reference's,
// and the tiers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalPath, defaultQuality, type ImageRequest } from '@imf/contract';
import { comparePixels } from '../support/reference.js';
import { buildTinyModel, offByOneAllowed, type TinyModel } from '../support/tiny-model.js';
import { decodePng } from './support/png.js';
import { inferredImages, startTestStack, type TestStack } from './support/stack.js';

let modelsDir: string;
let tiny: TinyModel;
let stack: TestStack & { cleanup(): Promise<void> };

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'imf-e2e-models-'));
  tiny = buildTinyModel(modelsDir);
  stack = await startTestStack({ workers: 1, modelsDir });
});
afterAll(async () => {
  await stack?.cleanup();
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

const get = async (path: string) => {
  const response = await fetch(new URL(path, stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` }, redirect: 'manual' });
  return { status: response.status, tier: response.headers.get('x-image-tier'), type: response.headers.get('content-type'), location: response.headers.get('location'), bytes: new Uint8Array(await response.arrayBuffer()) };
};

function request(overrides: Partial<ImageRequest> = {}): ImageRequest {
  const m = tiny.manifest;
  return { model: m.id, class: 207, guidance: m.guidance.default, tmin: m.interval.default[0], tmax: m.interval.default[1], seed: 0, format: 'png', size: m.image.width, ...defaultQuality(overrides.format ?? 'png'), ...overrides };
}

describe('a latent model on the whole stack', () => {
  it('is listed with its 1000 classes behind a link, RGB, and its own guidance range', async () => {
    const { models } = (await (await fetch(`${stack.url}/v1/models`)).json()) as { models: Record<string, unknown>[] };
    expect(models).toEqual([
      expect.objectContaining({ id: tiny.manifest.id, version: tiny.manifest.version, class_count: 1000, color: 'rgb', resolution: 64, guidance: tiny.manifest.guidance, sizes: [32, 64, 128, 256, 512] }),
    ]);
    const search = (await (await fetch(`${stack.url}/v1/models/${tiny.manifest.id}/classes?q=golden%20retriever`)).json()) as { classes: { index: number; slug: string }[] };
    expect(search.classes[0]).toMatchObject({ index: 207, slug: 'golden-retriever' });
  });

  it('redirects a class slug to the canonical URL with its index', async () => {
    const answer = await get(`/v1/images/${tiny.manifest.id}/golden-retriever.png?seed=0`);
    expect(answer.status).toBe(302);
    const location = new URL(answer.location!, stack.url);
    expect(location.pathname + location.search).toBe(canonicalPath(request()));
  });

  it("serves each reference request with the Python reference's pixels, generated once", async () => {
    const before = await inferredImages(stack.workers);
    for (const r of tiny.reference.requests) {
      const answer = await get(canonicalPath(request({ seed: r.seed, class: r.class, guidance: r.guidance, tmin: r.t_min, tmax: r.t_max })));
      expect(answer.status).toBe(200);
      expect(answer.tier).toBe('generated');
      const png = decodePng(answer.bytes);
      expect([png.width, png.height, png.channels]).toEqual([64, 64, 3]);
      const { maxDiff, differing } = comparePixels(png.data, r);
      expect(maxDiff).toBeLessThanOrEqual(1);
      expect(differing).toBeLessThanOrEqual(offByOneAllowed(png.data.length));
    }
    expect(await inferredImages(stack.workers)).toBe(before + tiny.reference.requests.length);
  });

  it('answers again from the edge cache, and after an edge restart from storage, without inference', async () => {
    const path = canonicalPath(request());
    const before = await inferredImages(stack.workers);
    const cached = await get(path);
    expect(cached.tier).toBe('edge-cache');
    await stack.restartEdge();
    const stored = await get(path);
    expect(stored.tier).toBe('storage');
    expect(Buffer.from(stored.bytes).equals(Buffer.from(cached.bytes))).toBe(true);
    expect(await inferredImages(stack.workers)).toBe(before);
  });

  it('serves JPEG at 256 pixels and WebP at 32', async () => {
    const jpeg = await get(canonicalPath(request({ seed: 5, format: 'jpeg', size: 256 })));
    expect([jpeg.status, jpeg.type]).toEqual([200, 'image/jpeg']);
    expect([...jpeg.bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const webp = await get(canonicalPath(request({ seed: 5, format: 'webp', size: 32 })));
    expect([webp.status, webp.type]).toEqual([200, 'image/webp']);
  });

  it('has a playground whose class box searches the 1000 names as one types and shows the RGB image', async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      await page.goto(stack.url + '/');
      await page.locator('#image[src]').waitFor({ state: 'attached', timeout: 30_000 });
      await page.locator('#class').fill('golden ret');
      await expect.poll(() => page.locator('#class-options option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toContain('Golden Retriever');
      const shown = page.waitForResponse((r) => r.url().includes(`/v1/images/${tiny.manifest.id}/207.png`) && r.status() === 200, { timeout: 30_000 });
      await page.locator('#class').fill('Golden Retriever');
      await shown;
      await expect.poll(() => page.evaluate(() => { const img = document.getElementById('image') as HTMLImageElement; return img.complete && img.src.includes('/207.png') ? [img.naturalWidth, img.className] : []; })).toEqual([256, 'rgb']);
      expect(await page.locator('#class-index').textContent()).toBe('#207');
    } finally {
      await browser.close();
    }
  });
});
