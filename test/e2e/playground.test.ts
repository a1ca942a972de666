// The playground (/) in a real headless Chromium (Debian's, driven by playwright-core): moving the
// guidance slider shows a different image. A screenshot goes to test/e2e/artifacts/.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_QUALITY, formatNumber } from '@imf/contract';
import { shippedModel, startTestStack, type TestStack } from './support/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const { manifest } = shippedModel();

let stack: TestStack & { cleanup(): Promise<void> };
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  stack = await startTestStack({ workers: 1 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.cleanup();
});

/** The next image the page loads with this guidance (canonical number form) and seed. */
const imageWith = (guidance: number, seed: number) =>
  page.waitForResponse((r: Response) => {
    if (!r.url().includes('/v1/images/')) return false;
    const query = new URL(r.url()).searchParams;
    return query.get('guidance') === formatNumber(guidance) && query.get('seed') === String(seed);
  }, { timeout: 30_000 });

/** A fixed seed keeps the run repeatable (the page starts with a random one). */
const SEED = 1;

it('shows a different image when the guidance slider moves', async () => {
  await page.goto(stack.url + '/');
  await page.locator('#image[src]').waitFor({ state: 'attached', timeout: 30_000 });
  const initial = imageWith(manifest.guidance.default, SEED);
  await page.locator('#model').selectOption(manifest.id); // the page opens on the first model by name
  await page.locator('#seed').fill(String(SEED));
  const before = await initial;
  expect(before.status()).toBe(200);
  const beforeBytes = await before.body();

  // The slider's low end, ω = min (1: no guidance): the most different image from a guided one
  // (with a barely trained model, strong guidance saturates every pixel, so two high ω look alike).
  const target = manifest.guidance.min === manifest.guidance.default ? manifest.guidance.max : manifest.guidance.min;
  const moved = imageWith(target, SEED);
  await page.locator('#guidance').fill(String(target));
  const after = await moved;
  expect(after.status()).toBe(200);
  expect((await after.body()).equals(beforeBytes)).toBe(false);

  // The page shows it: the <img> points at the new URL and has decoded.
  await expect.poll(() => page.evaluate(() => { const img = document.getElementById('image') as HTMLImageElement; return img.complete && img.naturalWidth > 0 ? img.src : ''; })).toBe(after.url());
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'playground.png'), fullPage: true });
});

it('serves every shipped model: imf-fashion by class name', async () => {
  const fashion = shippedModel('imf-fashion').manifest;
  const sneaker = fashion.classes.indexOf('sneaker');
  expect(sneaker).toBeGreaterThanOrEqual(0);
  await page.goto(stack.url + '/');
  await page.locator('#image[src]').waitFor({ state: 'attached', timeout: 30_000 });
  const shown = page.waitForResponse((r: Response) => new URL(r.url()).pathname === `/v1/images/imf-fashion/${sneaker}.png`, { timeout: 30_000 });
  await page.locator('#model').selectOption('imf-fashion');
  await page.locator('#class').fill('sneaker');
  const answer = await shown;
  expect(answer.status()).toBe(200);
  expect(answer.headers()['content-type']).toBe('image/png');
  await expect.poll(() => page.evaluate(() => { const img = document.getElementById('image') as HTMLImageElement; return img.complete && img.naturalWidth > 0 ? img.src : ''; })).toBe(answer.url());
  await page.screenshot({ path: join(ARTIFACTS, 'playground-fashion.png'), fullPage: true });
});

it('shows a lossy format at the quality its slider sets, the slider hidden for PNG', async () => {
  await page.goto(stack.url + '/');
  await page.locator('#image[src]').waitFor({ state: 'attached', timeout: 30_000 });
  expect(await page.locator('#quality').isVisible()).toBe(false);
  const jpeg = page.waitForResponse((r: Response) => /\.jpeg\?/.test(r.url()) && new URL(r.url()).searchParams.get('quality') === String(DEFAULT_QUALITY.jpeg), { timeout: 30_000 });
  await page.locator('#format').selectOption('jpeg');
  const first = await jpeg;
  expect([first.status(), first.headers()['content-type']]).toEqual([200, 'image/jpeg']);
  expect(await page.locator('#quality').isVisible()).toBe(true);
  const lower = page.waitForResponse((r: Response) => /\.jpeg\?/.test(r.url()) && new URL(r.url()).searchParams.get('quality') === '40', { timeout: 30_000 });
  await page.locator('#quality').fill('40');
  expect((await lower).status()).toBe(200);
});
