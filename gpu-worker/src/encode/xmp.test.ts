// Marking read back by independent readers: exiftool finds the digital source type, the model, its
// version and the parameters in every format (and no structural warning), and libvips (sharp)
// still decodes the very same pixels; the packet holds nothing but the values, so bytes repeat.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageFormat } from '@imf/contract';
import { encodeImage } from './index.js';
import { markImage, TRAINED_ALGORITHMIC_MEDIA, xmpPacket, type Provenance } from './xmp.js';

const dir = mkdtempSync(join(tmpdir(), 'xmp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const provenance: Provenance = {
  model: 'imf-mnist',
  version: 'sha256-0123abcd',
  parameters: { class: 3, guidance: 2, tmin: 0.1, tmax: 0.9, seed: 4294967295, size: 56, format: 'png' },
};

/** A 28×28 gradient in `channels` channels, as the worker hands it to the encoder. */
function pixels(channels: number): Uint8Array {
  const out = new Uint8Array(28 * 28 * channels);
  for (let i = 0; i < out.length; i++) out[i] = (i * 7) % 256;
  return out;
}

/** exiftool's reading of the bytes: every tag by group (-G1), and its validation (errors, warnings, minor warnings). */
function exiftool(bytes: Uint8Array, name: string): Record<string, unknown> {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return (JSON.parse(execFileSync('exiftool', ['-j', '-G1', '-n', '-a', '-all', '-validate', '-warning', file], { encoding: 'utf8' })) as Record<string, unknown>[])[0]!;
}

async function decoded(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).raw().toBuffer();
}

describe('XMP marking', () => {
  for (const format of ['png', 'webp', 'jpeg'] as const satisfies readonly ImageFormat[]) {
    for (const channels of [1, 3]) {
      it(`marks a ${channels}-channel ${format} so that exiftool reads it back and the pixels still decode unchanged`, async () => {
        const plain = await encodeImage(pixels(channels), { channels, height: 28, width: 28 }, { format, size: 56 });
        const marked = markImage(plain, format, { ...provenance, parameters: { ...provenance.parameters, format } });
        const tags = exiftool(marked, `m${channels}.${format}`);
        expect(tags['XMP-iptcExt:DigitalSourceType']).toBe(TRAINED_ALGORITHMIC_MEDIA);
        expect(tags['XMP-iptcExt:AISystemUsed']).toBe('imf-mnist');
        expect(tags['XMP-iptcExt:AISystemVersionUsed']).toBe('sha256-0123abcd');
        expect(tags['XMP-xmp:CreatorTool']).toBe('imf-mnist sha256-0123abcd');
        expect(tags).toMatchObject({ 'XMP-imf:Class': 3, 'XMP-imf:Guidance': 2, 'XMP-imf:Tmin': 0.1, 'XMP-imf:Tmax': 0.9, 'XMP-imf:Seed': 4294967295, 'XMP-imf:Size': 56, 'XMP-imf:Format': format });
        expect(tags['ExifTool:Warning']).toBeUndefined();
        expect(tags['ExifTool:Validate']).toBe('0 0 0');
        expect(tags['File:ImageWidth'] ?? tags['PNG:ImageWidth'] ?? tags['RIFF:ImageWidth']).toBe(56);
        expect(await decoded(marked)).toEqual(await decoded(plain));
        const meta = await sharp(marked).metadata();
        expect(meta.xmp?.toString('utf8')).toContain(TRAINED_ALGORITHMIC_MEDIA);
      });
    }
  }

  it('marks a lossy (VP8) and an alpha (VP8L) simple WebP, made extended with its canvas and alpha, and an extended one (VP8X)', async () => {
    const rgb = sharp(pixels(3), { raw: { width: 28, height: 28, channels: 3 } });
    const rgba = sharp(pixels(4), { raw: { width: 28, height: 28, channels: 4 } });
    for (const [name, bytes] of [
      ['lossy', await rgb.clone().resize(84, 56).webp({ quality: 80 }).toBuffer()],
      ['alpha', await rgba.clone().webp({ lossless: true }).toBuffer()],
      ['extended', await rgb.clone().withExif({ IFD0: { Copyright: 'someone' } }).webp({ lossless: true }).toBuffer()],
    ] as const) {
      const plain = new Uint8Array(bytes);
      const marked = markImage(plain, 'webp', provenance);
      const tags = exiftool(marked, `${name}.webp`);
      expect(tags['XMP-iptcExt:DigitalSourceType']).toBe(TRAINED_ALGORITHMIC_MEDIA);
      // No warning the file did not have before (sharp's EXIF has a minor one of its own).
      expect(tags['ExifTool:Validate']).toBe(exiftool(plain, `${name}-plain.webp`)['ExifTool:Validate']);
      const meta = await sharp(marked).metadata();
      expect([meta.width, meta.height, meta.hasAlpha]).toEqual(name === 'lossy' ? [84, 56, false] : [28, 28, name === 'alpha']);
      expect(await decoded(marked)).toEqual(await decoded(plain));
      if (name === 'extended') expect(tags['IFD0:Copyright']).toBe('someone'); // what the file held stays
    }
  });

  it('gives the same bytes for the same provenance, whatever the order its parameters came in', () => {
    const reversed = { ...provenance, parameters: Object.fromEntries(Object.entries(provenance.parameters!).reverse()) };
    expect(xmpPacket(reversed)).toBe(xmpPacket(provenance));
    expect(xmpPacket(provenance)).not.toMatch(/\d{4}-\d{2}-\d{2}T/); // no date: it would change the bytes
  });

  it('leaves the parameters out when told to, keeping the source type and the model version', () => {
    const tags = xmpPacket({ model: 'm', version: 'v1' });
    expect(tags).toContain(TRAINED_ALGORITHMIC_MEDIA);
    expect(tags).toContain('Iptc4xmpExt:AISystemVersionUsed="v1"');
    expect(tags).not.toContain('imf:Seed');
  });
});
