// The product through its front door: the real edge (Node), a real GPU worker on the shipped model,
// real SeaweedFS. Each test names one promise of shared/PRODUCT.md; the worker's /metrics are the
// witness for "no inference".
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalPath } from '@imf/contract';
import { decodePng } from './support/png.js';
import { MAX_PIXELS_OFF_BY_ONE, comparePixels, shippedModelsWithReferences } from '../support/reference.js';
import { inferredImages, requestsFor, shippedModel, startTestStack, type TestStack } from './support/stack.js';

const { manifest } = shippedModel();
let stack: TestStack & { cleanup(): Promise<void> };

const request = requestsFor(manifest, 1_000_000, 1);

async function get(path: string, auth = true): Promise<{ status: number; tier: string | null; bytes: Uint8Array; type: string | null }> {
  const response = await fetch(new URL(path, stack.url), { headers: auth ? { authorization: `Bearer ${stack.apiKey}` } : {}, redirect: 'manual' });
  return { status: response.status, tier: response.headers.get('x-image-tier'), type: response.headers.get('content-type'), bytes: new Uint8Array(await response.arrayBuffer()) };
}

beforeAll(async () => {
  stack = await startTestStack({ workers: 1 });
});
afterAll(async () => {
  await stack?.cleanup();
});

describe('one image through the tiers', () => {
  const path = canonicalPath(request({ class: 7 }));
  let first: Uint8Array;

  it('is generated on the first request', async () => {
    const before = await inferredImages(stack.workers);
    const answer = await get(path);
    expect(answer.status).toBe(200);
    expect(answer.tier).toBe('generated');
    expect(answer.type).toBe('image/png');
    expect(await inferredImages(stack.workers)).toBe(before + 1);
    first = answer.bytes;
  });

  it('comes from the edge cache on the second request', async () => {
    const answer = await get(path);
    expect(answer.tier).toBe('edge-cache');
    expect(Buffer.from(answer.bytes).equals(Buffer.from(first))).toBe(true);
  });

  it('comes from storage without any inference once the edge cache is gone (edge restarted)', async () => {
    const before = await inferredImages(stack.workers);
    await stack.restartEdge();
    const answer = await get(path);
    expect(answer.status).toBe(200);
    expect(answer.tier).toBe('storage');
    expect(await inferredImages(stack.workers)).toBe(before);
    // The same URL names the same bytes, before and after the restart.
    expect(Buffer.from(answer.bytes).equals(Buffer.from(first))).toBe(true);
  });
});

describe.each(shippedModelsWithReferences().map((m) => [m.manifest.id, m] as const))('%s: the image is the Python reference for its seed', (_, model) => {
  const cases = model.reference.requests.map((r) => [`seed ${r.seed} class ${r.class} ω ${r.guidance} [${r.t_min}, ${r.t_max}]`, r] as const);

  it('was made by the model version being served', async () => {
    expect(model.reference.model_version).toBe(model.manifest.version);
    expect(cases.length).toBeGreaterThan(0);
    const listed = (await (await fetch(new URL('/v1/models', stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` } })).json()) as { models: { id: string; version: string }[] };
    expect(listed.models.find((m) => m.id === model.manifest.id)?.version).toBe(model.manifest.version);
  });

  it.each(cases)('%s', async (_, r) => {
    const image = model.manifest.image;
    const answer = await get(canonicalPath(request({ model: model.manifest.id, seed: r.seed, class: r.class, guidance: r.guidance, tmin: r.t_min, tmax: r.t_max, size: image.width })));
    expect(answer.status).toBe(200);
    const png = decodePng(answer.bytes);
    expect([png.width, png.height, png.channels]).toEqual([image.width, image.height, image.channels]);
    const { maxDiff, differing } = comparePixels(png.data as Uint8Array, r);
    expect(maxDiff).toBeLessThanOrEqual(1);
    expect(differing).toBeLessThanOrEqual(MAX_PIXELS_OFF_BY_ONE);
  });
});

it('runs one inference for 50 identical concurrent requests', async () => {
  const path = canonicalPath(request({ class: 2 }));
  const before = await inferredImages(stack.workers);
  const answers = await Promise.all(Array.from({ length: 50 }, () => get(path)));
  expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
  for (const a of answers) expect(Buffer.from(a.bytes).equals(Buffer.from(answers[0]!.bytes))).toBe(true);
  expect(await inferredImages(stack.workers)).toBe(before + 1);
});

describe('signed URLs', () => {
  let signed: string;
  beforeAll(async () => {
    const r = request({ class: 4 });
    const response = await fetch(new URL('/v1/sign', stack.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: r.model, class: r.class, guidance: r.guidance, interval: [r.tmin, r.tmax], seed: r.seed, format: r.format, size: r.size }),
    });
    expect(response.status).toBe(200);
    signed = ((await response.json()) as { url: string }).url;
  });

  it('serve the image to anyone, without a key', async () => {
    const answer = await get(signed, false);
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('image/png');
  });

  it('answer 403 when tampered with', async () => {
    const url = new URL(signed);
    url.searchParams.set('seed', String(Number(url.searchParams.get('seed')) + 1));
    const answer = await get(url.toString(), false);
    expect(answer.status).toBe(403);
    expect(answer.type).toContain('application/problem+json');
  });
});

describe('marking', () => {
  // exiftool (scripts/setup.sh installs it): a reader that shares no code with the worker's marking.
  const readXmp = (bytes: Uint8Array, format: string): Record<string, unknown> => {
    const file = join(mkdtempSync(join(tmpdir(), 'imf-xmp-')), `image.${format}`);
    writeFileSync(file, bytes);
    try {
      return (JSON.parse(execFileSync('exiftool', ['-j', '-G1', '-n', '-XMP:all', file], { encoding: 'utf8' })) as Record<string, unknown>[])[0]!;
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
  };

  it.each(['png', 'webp', 'jpeg'] as const)('says in the XMP of a fresh %s that it is generated, by which model version, with which seed', async (format) => {
    const r = request({ format });
    const answer = await get(canonicalPath(r));
    expect(answer.tier).toBe('generated');
    expect(readXmp(answer.bytes, format)).toMatchObject({
      'XMP-iptcExt:DigitalSourceType': 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
      'XMP-iptcExt:AISystemUsed': manifest.id,
      'XMP-iptcExt:AISystemVersionUsed': manifest.version,
      'XMP-imf:Seed': r.seed,
    });
  });
});
