// Encoding: the model's 8-bit pixels (its graph rounds them) → PNG, WebP or JPEG at the canonical
// request's size and quality. No pixel work runs on the event loop: a downscale (the mean of whole
// blocks) runs in the pixel threads, and the nearest-neighbour upscale and the encoders in libvips
// (sharp), on libuv's thread pool. encodeImage is the one step from pixels to a file's bytes.
import sharp from 'sharp';
import { DEFAULT_QUALITY, isLossy, type ImageRequest } from '@imf/contract';
import { PixelThreads } from './pixel-threads.js';
import { scaleFactor, type ImageShape } from './scale.js';

export { downscale, scaleFactor, type ImageShape } from './scale.js';

/** What an encode needs of a request: the format, the output edge and, for a lossy format, the quality. */
export type EncodeTarget = Pick<ImageRequest, 'format' | 'size' | 'quality'>;

/**
 * The encoders' settings, fixed so the bytes depend on the pixels and the request alone (every
 * libvips thread count gives the same bytes: encode.test.ts). Chosen with `npm run bench:encoders`
 * on photo-like 256-px pixels up to 1024 px: PNG zlib level 6 without adaptive filtering (9 ms
 * and 233 KiB at 1024 px; level 1 saves 1 ms for 2.9 times the bytes); WebP at effort 0 (27 ms at
 * 1024 px and q80, where effort 2 takes 51 ms and the default 4 takes 95 ms, for bytes within
 * 10%); JPEG with 4:2:0 chroma and optimised Huffman tables, no progressive scans (11 ms at 1024 px).
 */
export const ENCODER_SETTINGS = {
  png: { compressionLevel: 6, adaptiveFiltering: false, palette: false },
  webp: { effort: 0, smartSubsample: false, lossless: false, nearLossless: false },
  jpeg: { chromaSubsampling: '4:2:0', optimiseCoding: true, progressive: false, trellisQuantisation: false, overshootDeringing: false, optimiseScans: false, mozjpeg: false },
} as const;

const pixelThreads = new PixelThreads();

/** H×W×C pixels at the model's native size → the file's bytes for `target`. */
export async function encodeImage(nativePixels: Uint8Array, nativeShape: ImageShape, target: EncodeTarget): Promise<Uint8Array> {
  const { format, size } = target;
  const { up, down } = scaleFactor(nativeShape, size);
  const shape = { ...nativeShape, height: nativeShape.height / down, width: nativeShape.width / down };
  const pixels = down === 1 ? nativePixels : await pixelThreads.run({ kind: 'downscale', pixels: nativePixels, shape: nativeShape, divisor: down });
  let pipeline = sharp(pixels, { raw: { width: shape.width, height: shape.height, channels: shape.channels as 1 | 3 | 4 } });
  // An integer factor with the nearest kernel is libvips' zoom: each pixel becomes an up × up block.
  if (up > 1) pipeline = pipeline.resize(shape.width * up, shape.height * up, { kernel: 'nearest' });
  // sharp writes RGB unless told the image is grayscale, at about twice the size.
  if (shape.channels === 1) pipeline = pipeline.toColourspace('b-w');
  const quality = isLossy(format) ? (target.quality ?? DEFAULT_QUALITY[format]) : undefined;
  const encoded =
    format === 'png'
      ? pipeline.png(ENCODER_SETTINGS.png)
      : format === 'webp'
        ? pipeline.webp({ ...ENCODER_SETTINGS.webp, quality })
        : pipeline.jpeg({ ...ENCODER_SETTINGS.jpeg, quality });
  const buffer = await encoded.toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
