// The canonical image request: every accepted way of asking for an image (URL path and query, or a
// JSON body) becomes one ImageRequest with every default filled in and every number normalised, and
// that request has exactly one URL. The edge, the worker and the tests all use this module.
import { z } from 'zod';
import { allowedSizes, defaultSize, findModel, type ModelManifest, type ModelRegistry } from './manifest.js';
import { formatNumber, freshSeed, parseDecimal, parseSeed, quantize, UINT32_MAX } from './numbers.js';

export const IMAGE_FORMATS = ['png', 'webp'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const CONTENT_TYPES: Record<ImageFormat, string> = { png: 'image/png', webp: 'image/webp' };

/** Most images one POST /v1/images may ask for. */
export const MAX_IMAGES_PER_REQUEST = 16;

/** Names that select the model's null (unconditional) class instead of an index. */
export const NULL_CLASS_NAMES = ['null', 'unconditional'] as const;

/** One image, fully specified: an image is a pure function of these fields plus the model version. */
export interface ImageRequest {
  model: string;
  /** Class index; the manifest's null_class means unconditional. */
  class: number;
  guidance: number;
  tmin: number;
  tmax: number;
  /** Unsigned 32-bit seed of the noise generator. */
  seed: number;
  format: ImageFormat;
  /** Output edge length in pixels, one of allowedSizes(model). */
  size: number;
}

/** One rejected parameter: its name, the rule it broke, and a sentence for the caller. */
export interface ParamIssue {
  parameter: string;
  rule: 'required' | 'type' | 'range' | 'enum' | 'unknown' | 'order' | 'format';
  detail: string;
}

export type ParseResult<T> =
  | { ok: true; value: T }
  /** notFound: the model does not exist (404) rather than a bad parameter (400). */
  | { ok: false; notFound: boolean; issues: ParamIssue[] };

export interface ParsedImage {
  request: ImageRequest;
  /** True when the caller gave no seed and one was drawn: such a request is never cached as-is. */
  seedDrawn: boolean;
}

export interface ParseOptions {
  /** Source of fresh seeds; tests pass a fixed one. */
  drawSeed?: () => number;
}

/** Query parameters of the image URL; anything else is rejected by name. */
export const IMAGE_QUERY_PARAMS = ['guidance', 'tmin', 'tmax', 'seed', 'size'] as const;

/** The query of GET /v1/images/{model}/{class}.{format}, as strings before model-specific checks. */
export const imageQuerySchema = z
  .object({
    guidance: z.string().optional(),
    tmin: z.string().optional(),
    tmax: z.string().optional(),
    seed: z.string().optional(),
    size: z.string().optional(),
  })
  .strict();

/** The JSON body of POST /v1/images and POST /v1/sign. */
export const imageBodySchema = z
  .object({
    model: z.string().min(1),
    class: z.union([z.number().int(), z.string().min(1)]),
    guidance: z.number().finite().optional(),
    interval: z.tuple([z.number().finite(), z.number().finite()]).optional(),
    seed: z.number().int().optional(),
    n: z.number().int().optional(),
    format: z.enum(IMAGE_FORMATS).optional(),
    size: z.number().int().optional(),
  })
  .strict();

export type ImageBody = z.infer<typeof imageBodySchema>;

/** Turns zod issues into ParamIssues naming the parameter and the rule (parse with reportInput). */
export function issuesFromZod(error: z.ZodError, prefix = ''): ParamIssue[] {
  const out: ParamIssue[] = [];
  for (const issue of error.issues) {
    const at = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ parameter: [at, key].filter(Boolean).join('.'), rule: 'unknown', detail: `unknown parameter "${key}"` });
      }
    } else if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) {
      out.push({ parameter: at || '(body)', rule: 'required', detail: `${at || 'body'} is required` });
    } else if (issue.code === 'invalid_value') {
      out.push({ parameter: at, rule: 'enum', detail: issue.message });
    } else if (issue.code === 'too_big' || issue.code === 'too_small') {
      out.push({ parameter: at, rule: 'range', detail: issue.message });
    } else {
      out.push({ parameter: at || '(body)', rule: 'type', detail: issue.message });
    }
  }
  return out;
}

/** Resolves a class given as an index or a name to its index, or explains why not. */
export function resolveClass(model: ModelManifest, given: string | number): number | ParamIssue {
  const text = String(given);
  if (/^\d+$/.test(text)) {
    const index = Number(text);
    if (index < model.classes.length || index === model.null_class) return index;
  }
  const byName = model.classes.indexOf(text);
  if (byName >= 0) return byName;
  if ((NULL_CLASS_NAMES as readonly string[]).includes(text.toLowerCase())) return model.null_class;
  return {
    parameter: 'class',
    rule: 'enum',
    detail: `class must be an index 0..${model.classes.length - 1}, ${model.null_class} or "null" for unconditional, or one of the names ${model.classes.map((c) => JSON.stringify(c)).join(', ')}`,
  };
}

interface LooseRequest {
  class: string | number;
  guidance?: number | string;
  tmin?: number | string;
  tmax?: number | string;
  seed?: number | string;
  format: string;
  size?: number | string;
}

function validate(model: ModelManifest, loose: LooseRequest, names: { tmin: string; tmax: string }, drawSeed: () => number): ParseResult<ParsedImage> {
  const issues: ParamIssue[] = [];
  const number = (name: string, raw: number | string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const value = typeof raw === 'number' ? raw : parseDecimal(raw);
    if (value === undefined) {
      issues.push({ parameter: name, rule: 'type', detail: `${name} must be a decimal number` });
      return fallback;
    }
    return quantize(value);
  };

  const cls = resolveClass(model, loose.class);
  if (typeof cls !== 'number') issues.push(cls);

  const g = number('guidance', loose.guidance, model.guidance.default);
  if (g < model.guidance.min || g > model.guidance.max) {
    issues.push({ parameter: 'guidance', rule: 'range', detail: `guidance must be between ${model.guidance.min} and ${model.guidance.max}` });
  }
  const [defaultMin, defaultMax] = model.interval.default;
  const tmin = number(names.tmin, loose.tmin, defaultMin);
  const tmax = number(names.tmax, loose.tmax, defaultMax);
  if (tmin < 0 || tmin > 1) issues.push({ parameter: names.tmin, rule: 'range', detail: `${names.tmin} must be between 0 and 1` });
  if (tmax < 0 || tmax > 1) issues.push({ parameter: names.tmax, rule: 'range', detail: `${names.tmax} must be between 0 and 1` });
  if (tmin >= tmax) issues.push({ parameter: names.tmin, rule: 'order', detail: `${names.tmin} must be less than ${names.tmax} (0 ≤ t_min < t_max ≤ 1)` });

  let seed: number | undefined;
  if (loose.seed !== undefined) {
    seed = typeof loose.seed === 'number' ? (Number.isInteger(loose.seed) && loose.seed >= 0 && loose.seed <= UINT32_MAX ? loose.seed : undefined) : parseSeed(loose.seed);
    if (seed === undefined) issues.push({ parameter: 'seed', rule: 'range', detail: `seed must be an integer between 0 and ${UINT32_MAX}` });
  }

  if (!(IMAGE_FORMATS as readonly string[]).includes(loose.format)) {
    issues.push({ parameter: 'format', rule: 'enum', detail: `format must be one of ${IMAGE_FORMATS.join(', ')}` });
  }

  const sizes = allowedSizes(model);
  let size = defaultSize(model);
  if (loose.size !== undefined) {
    const parsed = typeof loose.size === 'number' ? loose.size : /^\d+$/.test(loose.size) ? Number(loose.size) : NaN;
    if (!sizes.includes(parsed)) issues.push({ parameter: 'size', rule: 'enum', detail: `size must be one of ${sizes.join(', ')}` });
    else size = parsed;
  }

  if (issues.length > 0) return { ok: false, notFound: false, issues };
  const seedDrawn = seed === undefined;
  return {
    ok: true,
    value: {
      request: { model: model.id, class: cls as number, guidance: g, tmin, tmax, seed: seed ?? drawSeed(), format: loose.format as ImageFormat, size },
      seedDrawn,
    },
  };
}

function unknownModel(registry: ModelRegistry, id: string): ParseResult<never> {
  return {
    ok: false,
    notFound: true,
    issues: [{ parameter: 'model', rule: 'enum', detail: `unknown model "${id}"; known: ${Object.keys(registry).join(', ')}` }],
  };
}

/**
 * Parses the image URL's parts: model id, the last path segment ("<class>.<format>") and the query.
 * Signature parameters (exp, kid, sig) must already be removed by the caller.
 */
export function parseImagePath(
  registry: ModelRegistry,
  parts: { model: string; file: string; query: URLSearchParams },
  options: ParseOptions = {},
): ParseResult<ParsedImage> {
  const model = findModel(registry, parts.model);
  if (!model) return unknownModel(registry, parts.model);
  const dot = parts.file.lastIndexOf('.');
  if (dot <= 0) {
    return { ok: false, notFound: false, issues: [{ parameter: 'format', rule: 'format', detail: 'the image path must end in <class>.png or <class>.webp' }] };
  }

  const query: Record<string, string> = {};
  const issues: ParamIssue[] = [];
  for (const [name, value] of parts.query) {
    if (name in query) issues.push({ parameter: name, rule: 'format', detail: `${name} is given more than once` });
    query[name] = value;
  }
  const shape = imageQuerySchema.safeParse(query, { reportInput: true });
  if (!shape.success) issues.push(...issuesFromZod(shape.error));
  if (issues.length > 0) return { ok: false, notFound: false, issues };

  const q = shape.data!;
  return validate(
    model,
    { class: parts.file.slice(0, dot), format: parts.file.slice(dot + 1), guidance: q.guidance, tmin: q.tmin, tmax: q.tmax, seed: q.seed, size: q.size },
    { tmin: 'tmin', tmax: 'tmax' },
    options.drawSeed ?? freshSeed,
  );
}

/** Parses a JSON body (POST /v1/images, POST /v1/sign): one request plus how many images (n). */
export function parseImageBody(
  registry: ModelRegistry,
  body: unknown,
  options: ParseOptions = {},
): ParseResult<ParsedImage & { n: number }> {
  const shape = imageBodySchema.safeParse(body, { reportInput: true });
  if (!shape.success) return { ok: false, notFound: false, issues: issuesFromZod(shape.error) };
  const b = shape.data;
  const model = findModel(registry, b.model);
  if (!model) return unknownModel(registry, b.model);
  const n = b.n ?? 1;
  const nIssue: ParamIssue[] =
    n < 1 || n > MAX_IMAGES_PER_REQUEST ? [{ parameter: 'n', rule: 'range', detail: `n must be between 1 and ${MAX_IMAGES_PER_REQUEST}` }] : [];
  const parsed = validate(
    model,
    { class: b.class, guidance: b.guidance, tmin: b.interval?.[0], tmax: b.interval?.[1], seed: b.seed, format: b.format ?? 'png', size: b.size },
    { tmin: 'interval[0]', tmax: 'interval[1]' },
    options.drawSeed ?? freshSeed,
  );
  if (!parsed.ok) return { ...parsed, issues: [...parsed.issues, ...nIssue] };
  if (nIssue.length > 0) return { ok: false, notFound: false, issues: nIssue };
  return { ok: true, value: { ...parsed.value, n } };
}

/** The one path (with query) of an image: every parameter present, fixed order, canonical numbers. */
export function canonicalPath(req: ImageRequest): string {
  return (
    `/v1/images/${req.model}/${req.class}.${req.format}` +
    `?guidance=${formatNumber(req.guidance)}&tmin=${formatNumber(req.tmin)}&tmax=${formatNumber(req.tmax)}` +
    `&seed=${req.seed}&size=${req.size}`
  );
}

/** The canonical absolute URL of an image on the given origin (e.g. "https://img.example"). */
export function canonicalUrl(req: ImageRequest, origin: string): string {
  return new URL(canonicalPath(req), origin).toString();
}

/** The n requests of a batch: consecutive seeds from the first, wrapping at 2^32. */
export function consecutiveSeeds(req: ImageRequest, n: number): ImageRequest[] {
  return Array.from({ length: n }, (_, i) => ({ ...req, seed: (req.seed + i) % (UINT32_MAX + 1) }));
}
