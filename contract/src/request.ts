// One image, fully specified: an image is a pure function of an ImageRequest and the model version.
// The zod schema is the definition; the type derives from it, and the worker API carries it as is.
import { z } from 'zod';
import { UINT32_MAX } from './numbers.js';

export const IMAGE_FORMATS = ['png', 'webp', 'jpeg'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Other names a URL may give a format (`.jpg`); they redirect to the canonical one. */
export const FORMAT_ALIASES: Readonly<Record<string, ImageFormat>> = { jpg: 'jpeg' };

export const CONTENT_TYPES: Record<ImageFormat, string> = { png: 'image/png', webp: 'image/webp', jpeg: 'image/jpeg' };

/** The formats that take a `quality`; PNG is lossless and takes none. */
export const LOSSY_FORMATS = ['webp', 'jpeg'] as const satisfies readonly ImageFormat[];
export type LossyFormat = (typeof LOSSY_FORMATS)[number];

/** The range of `quality`, as libwebp and libjpeg define it. */
export const QUALITY_MIN = 1;
export const QUALITY_MAX = 100;

/**
 * The quality a lossy image gets when the request names none: the highest at which the format's
 * encoder stays under 40 ms of CPU per image at every size up to 1024 px on photo-like pixels
 * (`npm run bench:encoders` in gpu-worker/ measures it: WebP q80 27 ms, JPEG q90 11 ms at 1024 px), and
 * where neither shows blocks at 256 px.
 */
export const DEFAULT_QUALITY: Readonly<Record<LossyFormat, number>> = { webp: 80, jpeg: 90 };

export function isLossy(format: ImageFormat): format is LossyFormat {
  return (LOSSY_FORMATS as readonly string[]).includes(format);
}

/** The quality field of a canonical request in `format` that names none: the default, or none for PNG. */
export function defaultQuality(format: ImageFormat): { quality?: number } {
  return isLossy(format) ? { quality: DEFAULT_QUALITY[format] } : {};
}

/** Most images one POST /v1/images may ask for, and most requests in one call to a worker. */
export const MAX_IMAGES_PER_REQUEST = 16;

/** Names that select the model's null (unconditional) class instead of an index. */
export const NULL_CLASS_NAMES = ['null', 'unconditional'] as const;

/**
 * A request in canonical form has every field; numbers are already quantised (numbers.ts) and the
 * class is an index. Whether the values are within a model's limits is canonical.ts's question.
 */
export const imageRequestSchema = z.strictObject({
  model: z.string().min(1),
  /** Class index; the manifest's null_class means unconditional. */
  class: z.number().int().nonnegative(),
  guidance: z.number(),
  tmin: z.number(),
  tmax: z.number(),
  /** Unsigned 32-bit seed of the noise generator. */
  seed: z.number().int().nonnegative().max(UINT32_MAX),
  format: z.enum(IMAGE_FORMATS),
  /** Output edge length in pixels, one of allowedSizes(model). */
  size: z.number().int().positive(),
  /** Encoder quality QUALITY_MIN..QUALITY_MAX: present exactly when the format is lossy (WebP, JPEG). */
  quality: z.number().int().min(QUALITY_MIN).max(QUALITY_MAX).optional(),
});

export type ImageRequest = z.infer<typeof imageRequestSchema>;
