// Every image the worker answers says it was generated: read back from the real model's PNG, WebP
// and JPEG by exiftool (an independent reader), with the model version and the parameters, or only
// the version where XMP_PARAMETERS=false; an image rendered twice is the same bytes twice.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageFormat, ModelManifest } from '@imf/contract';
import { TRAINED_ALGORITHMIC_MEDIA } from '../src/encode/xmp.js';
import { generate, metric, startTestWorker, workRequest, type TestWorker } from './support/worker.js';

let marked: TestWorker;
let bare: TestWorker;
let manifest: ModelManifest;
const dir = mkdtempSync(join(tmpdir(), 'imf-marking-'));

beforeAll(async () => {
  [marked, bare] = await Promise.all([startTestWorker(), startTestWorker({ XMP_PARAMETERS: 'false' })]);
  await Promise.all([marked.worker.ready, bare.worker.ready]);
  manifest = marked.worker.generator()!.servedModels[0]!.manifest;
});
afterAll(async () => {
  await Promise.all([marked?.stop(), bare?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function exiftool(bytes: Uint8Array, name: string): Record<string, unknown> {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return (JSON.parse(execFileSync('exiftool', ['-j', '-G1', '-n', '-a', '-all', '-validate', '-warning', file], { encoding: 'utf8' })) as Record<string, unknown>[])[0]!;
}

async function image(worker: TestWorker, given: Parameters<typeof workRequest>[1], storageChecked?: boolean): Promise<Uint8Array> {
  const work = await workRequest(manifest, given);
  const response = await generate(worker.url, storageChecked ? { ...work, storageChecked } : work);
  expect(response.status).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

describe('marking of generated images', () => {
  for (const format of ['png', 'webp', 'jpeg'] as const satisfies readonly ImageFormat[]) {
    it(`marks a ${format} as trainedAlgorithmicMedia with the model, its version and the parameters, and it decodes`, async () => {
      const size = manifest.image.width * 2;
      const seed = 7_100_000 + format.length;
      const bytes = await image(marked, { format, size, seed, class: 5 });
      const tags = exiftool(bytes, `marked.${format}`);
      expect(tags).toMatchObject({
        'XMP-iptcExt:DigitalSourceType': TRAINED_ALGORITHMIC_MEDIA,
        'XMP-iptcExt:AISystemUsed': manifest.id,
        'XMP-iptcExt:AISystemVersionUsed': manifest.version,
        'XMP-imf:Seed': seed,
        'XMP-imf:Class': 5,
        'XMP-imf:Guidance': manifest.guidance.default,
        'XMP-imf:Tmin': manifest.interval.default[0],
        'XMP-imf:Tmax': manifest.interval.default[1],
        'XMP-imf:Size': size,
        'XMP-imf:Format': format,
        'ExifTool:Validate': '0 0 0',
      });
      expect(await sharp(bytes).metadata()).toMatchObject({ format, width: size, height: size });
    });
  }

  it('leaves the parameters out with XMP_PARAMETERS=false, keeping the source type and the model version', async () => {
    const tags = exiftool(await image(bare, { format: 'webp', seed: 7_200_000 }), 'bare.webp');
    expect(tags).toMatchObject({ 'XMP-iptcExt:DigitalSourceType': TRAINED_ALGORITHMIC_MEDIA, 'XMP-iptcExt:AISystemVersionUsed': manifest.version });
    expect(Object.keys(tags).filter((name) => name.startsWith('XMP-imf:'))).toEqual([]);
  });

  it('renders the same marked bytes again for the same request', async () => {
    const given = { format: 'jpeg' as const, seed: 7_300_000 };
    const first = await image(marked, given);
    const before = await metric(marked.url, 'imf_worker_batch_size_sum', { model: manifest.id });
    // storageChecked: the worker skips its lookup and renders anew (its put finds the object there).
    const again = await image(marked, given, true);
    expect(await metric(marked.url, 'imf_worker_batch_size_sum', { model: manifest.id })).toBeGreaterThan(before);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
  });
});
