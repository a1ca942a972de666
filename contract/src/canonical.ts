// The canonical image request: every accepted way of asking for an image (URL path and query, or a
// JSON body) becomes one ImageRequest with every default filled in and every number normalised, and
// that request has exactly one URL. The edge, the worker and the tests all use this module.
import { z } from 'zod';
import { issuesFromZod, type ParamIssue, type ParseResult } from './issues.js';
import { allowedSizes, defaultSize, findModel, type ModelRegistry, type ModelSummary } from './manifest.js';
import { formatNumber, freshSeed, parseDecimal, parseSeed, quantize, UINT32_MAX } from './numbers.js';
import { DEFAULT_QUALITY, FORMAT_ALIASES, IMAGE_FORMATS, isLossy, LOSSY_FORMATS, MAX_IMAGES_PER_REQUEST, NULL_CLASS_NAMES, QUALITY_MAX, QUALITY_MIN, type ImageFormat, type ImageRequest } from './request.js';

/** The path of every image URL up to the model id. */
export const IMAGE_PATH_PREFIX = '/v1/images/';

/**
 * The query parameters of an image URL, in canonical order; anything else is rejected by name. Each
 * is the request field of the same name. `quality` is in the canonical URL of a lossy format only.
 */
export const IMAGE_QUERY_PARAMS = ['guidance', 'tmin', 'tmax', 'seed', 'size', 'quality'] as const satisfies readonly (keyof ImageRequest)[];
export type ImageQueryParam = (typeof IMAGE_QUERY_PARAMS)[number];

/** The query of GET /v1/images/{model}/{class}.{format}, as strings before model-specific checks. */
export const imageQuerySchema = z.strictObject(
  Object.fromEntries(IMAGE_QUERY_PARAMS.map((name) => [name, z.string().optional()])) as Record<ImageQueryParam, z.ZodOptional<z.ZodString>>,
);

/** The JSON body of POST /v1/images and POST /v1/sign. */
export const imageBodySchema = z.strictObject({
  model: z.string().min(1),
  class: z.union([z.number().int(), z.string().min(1)]),
  guidance: z.number().finite().optional(),
  interval: z.tuple([z.number().finite(), z.number().finite()]).optional(),
  seed: z.number().int().optional(),
  n: z.number().int().optional(),
  format: z.enum(IMAGE_FORMATS).optional(),
  size: z.number().int().optional(),
  // Any number: validate() says why a fraction or one out of range is not a quality.
  quality: z.number().optional(),
});

export type ImageBody = z.infer<typeof imageBodySchema>;

export interface ParsedImage {
  request: ImageRequest;
  /** True when the caller gave no seed and one was drawn: such a request is never cached as-is. */
  seedDrawn: boolean;
}

export interface ParseOptions {
  /** Source of fresh seeds; tests pass a fixed one. */
  drawSeed?: () => number;
}

/**
 * A class name as a URL path segment: lowercase ASCII letters and digits, every other run of
 * characters one dash ("Golden Retriever" → "golden-retriever"). The importer checks that the
 * ImageNet names stay unique this way (models/imf/export/imagenet_names.py).
 */
export function classSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Class index by name and by slug, built once per model (a lookup per request stays O(1)). */
const classLookups = new WeakMap<readonly string[], Map<string, number>>();

function classLookup(classes: readonly string[]): Map<string, number> {
  let lookup = classLookups.get(classes);
  if (!lookup) {
    lookup = new Map();
    // Exact names first: a slug never shadows a name.
    classes.forEach((name, index) => {
      const slug = classSlug(name);
      if (slug !== '' && !lookup!.has(slug)) lookup!.set(slug, index);
    });
    classes.forEach((name, index) => lookup!.set(name, index));
    classLookups.set(classes, lookup);
  }
  return lookup;
}

/** Lists this many class names at most in an error; past it the error points to the class list. */
const NAMES_IN_ERRORS = 20;

/** Resolves a class given as an index, a name or a name's slug to its index, or explains why not. */
export function resolveClass(model: ModelSummary, given: string | number): number | ParamIssue {
  const text = String(given);
  if (/^\d+$/.test(text)) {
    const index = Number(text);
    if (index < model.classes.length || index === model.null_class) return index;
  }
  // A slug stands for a name spelt with other separators or case ("ankle_boot", "Ankle Boot"), not
  // for one with something before or after it: "-1" and "3!" are not the class "1" or "3".
  const slugLike = /^[\p{L}\p{N}].*[\p{L}\p{N}]$|^[\p{L}\p{N}]$/u.test(text);
  const byName = classLookup(model.classes).get(text) ?? (slugLike ? classLookup(model.classes).get(classSlug(text)) : undefined);
  if (byName !== undefined) return byName;
  if ((NULL_CLASS_NAMES as readonly string[]).includes(text.toLowerCase())) return model.null_class;
  const names =
    model.classes.length <= NAMES_IN_ERRORS
      ? `one of the names ${model.classes.map((c) => JSON.stringify(c)).join(', ')}`
      : `a class name or its slug (e.g. "${classSlug(model.classes[0]!)}"; GET /v1/models/${model.id}/classes lists them)`;
  return {
    parameter: 'class',
    rule: 'enum',
    detail: `class must be an index 0..${model.classes.length - 1}, ${model.null_class} or "null" for unconditional, or ${names}`,
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
  quality?: number | string;
}

/** The names the interval's ends go by in errors: query parameters in a URL, `interval[i]` in a body. */
type IntervalNames = { tmin: string; tmax: string };
const QUERY_NAMES: IntervalNames = { tmin: 'tmin', tmax: 'tmax' } satisfies Record<string, ImageQueryParam>;

function validate(model: ModelSummary, loose: LooseRequest, names: IntervalNames, drawSeed: () => number): ParseResult<ParsedImage> {
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

  const format = FORMAT_ALIASES[loose.format] ?? loose.format;
  if (!(IMAGE_FORMATS as readonly string[]).includes(format)) {
    issues.push({ parameter: 'format', rule: 'enum', detail: `format must be one of ${IMAGE_FORMATS.join(', ')}` });
  }

  let quality: number | undefined;
  if ((IMAGE_FORMATS as readonly string[]).includes(format)) {
    const known = format as ImageFormat;
    if (loose.quality === undefined) quality = isLossy(known) ? DEFAULT_QUALITY[known] : undefined;
    else if (!isLossy(known)) issues.push({ parameter: 'quality', rule: 'unknown', detail: `quality applies to ${LOSSY_FORMATS.join(' and ')} only; ${known} is lossless` });
    else {
      const parsed = typeof loose.quality === 'number' ? loose.quality : /^\d{1,3}$/.test(loose.quality) ? Number(loose.quality) : NaN;
      if (Number.isInteger(parsed) && parsed >= QUALITY_MIN && parsed <= QUALITY_MAX) quality = parsed;
      else issues.push({ parameter: 'quality', rule: 'range', detail: `quality must be a whole number from ${QUALITY_MIN} to ${QUALITY_MAX}` });
    }
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
      request: { model: model.id, class: cls as number, guidance: g, tmin, tmax, seed: seed ?? drawSeed(), format: format as ImageFormat, size, ...(quality === undefined ? {} : { quality }) },
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
    return { ok: false, notFound: false, issues: [{ parameter: 'format', rule: 'format', detail: `the image path must end in <class>.<format>, the format one of ${IMAGE_FORMATS.join(', ')}` }] };
  }

  // No prototype: names such as `toString` or `__proto__` are parameters like any other (unknown ones).
  const query: Record<string, string> = Object.create(null);
  const issues: ParamIssue[] = [];
  const repeated = new Set<string>();
  for (const [name, value] of parts.query) {
    if (Object.hasOwn(query, name) && !repeated.has(name)) {
      repeated.add(name);
      issues.push({ parameter: name, rule: 'format', detail: `${name} is given more than once` });
    }
    query[name] = value;
  }
  const shape = imageQuerySchema.safeParse(query, { reportInput: true });
  if (!shape.success) issues.push(...issuesFromZod(shape.error));
  if (issues.length > 0) return { ok: false, notFound: false, issues };

  const q = shape.data!;
  return validate(
    model,
    { class: parts.file.slice(0, dot), format: parts.file.slice(dot + 1), guidance: q.guidance, tmin: q.tmin, tmax: q.tmax, seed: q.seed, size: q.size, quality: q.quality },
    QUERY_NAMES,
    options.drawSeed ?? freshSeed,
  );
}

/** A path segment as the router hands it over: percent-decoded, or as sent when that is malformed. */
function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Parses an image URL's request target (`/v1/images/<model>/<class>.<format>?<query>`, without a
 * signature), e.g. what a client sent or what canonicalPath wrote.
 */
export function parseImageTarget(registry: ModelRegistry, target: string, options: ParseOptions = {}): ParseResult<ParsedImage> {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const segments = path.startsWith(IMAGE_PATH_PREFIX) ? path.slice(IMAGE_PATH_PREFIX.length).split('/') : [];
  if (segments.length !== 2) {
    return { ok: false, notFound: true, issues: [{ parameter: '(path)', rule: 'format', detail: `an image URL is ${IMAGE_PATH_PREFIX}<model>/<class>.<format>` }] };
  }
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  return parseImagePath(registry, { model: decodeSegment(segments[0]!), file: decodeSegment(segments[1]!), query }, options);
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
    { class: b.class, guidance: b.guidance, tmin: b.interval?.[0], tmax: b.interval?.[1], seed: b.seed, format: b.format ?? 'png', size: b.size, quality: b.quality },
    { tmin: 'interval[0]', tmax: 'interval[1]' },
    options.drawSeed ?? freshSeed,
  );
  if (!parsed.ok) return { ...parsed, issues: [...parsed.issues, ...nIssue] };
  if (nIssue.length > 0) return { ok: false, notFound: false, issues: nIssue };
  return { ok: true, value: { ...parsed.value, n } };
}

/**
 * The one path (with query) of an image: every parameter present, in IMAGE_QUERY_PARAMS order, each
 * number in its canonical text (integers, the seed, size and quality, are their own canonical text).
 * A PNG has no quality, so its URL (and key) has none.
 */
export function canonicalPath(req: ImageRequest): string {
  let path = `${IMAGE_PATH_PREFIX}${req.model}/${req.class}.${req.format}`;
  for (let i = 0; i < IMAGE_QUERY_PARAMS.length; i++) {
    const name = IMAGE_QUERY_PARAMS[i]!;
    const value = req[name];
    if (value === undefined) continue;
    path += `${i === 0 ? '?' : '&'}${name}=${formatNumber(value)}`;
  }
  return path;
}

/** The n requests of a batch: consecutive seeds from the first, wrapping at 2^32. */
export function consecutiveSeeds(req: ImageRequest, n: number): ImageRequest[] {
  return Array.from({ length: n }, (_, i) => ({ ...req, seed: (req.seed + i) % (UINT32_MAX + 1) }));
}
