// GET /v1/models: every served model with its limits and defaults, from its manifest, kept small:
// a model with many classes (ImageNet's 1000) lists them on GET /v1/models/{model}/classes, which
// also searches them by name (the playground's type-ahead).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { allowedSizes, classSlug, DEFAULT_QUALITY, findModel, IMAGE_FORMATS, LOSSY_FORMATS, QUALITY_MAX, QUALITY_MIN, type ModelSummary, type ParamIssue } from '@imf/contract';
import { invalidParameters, problem, problemResponse } from '../problem/index.js';
import { generationPrice } from '../access/index.js';
import { documented } from '../openapi/document.js';
import { problems } from '../openapi/schemas.js';
import type { RouteContext } from './context.js';

/** Models with at most this many classes list their names in /v1/models itself. */
export const INLINE_CLASS_NAMES = 100;
/** Most classes one answer of the class list holds. */
const MAX_CLASSES_PER_PAGE = 1000;
const MAX_QUERY_LENGTH = 100;

const modelSchema = z
  .object({
    id: z.string(),
    version: z.string(),
    resolution: z.number().int().describe('Native width and height in pixels'),
    channels: z.number().int(),
    color: z.enum(['rgb', 'grayscale']),
    classes: z.array(z.string()).optional().describe(`Class names by index, for models with at most ${INLINE_CLASS_NAMES} classes; every model: classes_url`),
    class_count: z.number().int(),
    classes_url: z.string().describe('The class list, searchable: GET /v1/models/{model}/classes'),
    null_class: z.number().int().describe('Index of the unconditional class (also "null")'),
    guidance: z.object({ min: z.number(), max: z.number(), default: z.number() }),
    interval: z.tuple([z.number(), z.number()]).describe('Default guidance interval [t_min, t_max]'),
    nfe: z.number().int(),
    sizes: z.array(z.number().int()).describe('Allowed output sizes'),
    formats: z.array(z.enum(IMAGE_FORMATS)),
    quality: z
      .object({
        formats: z.array(z.enum(LOSSY_FORMATS)),
        min: z.number().int(),
        max: z.number().int(),
        default: z.object({ webp: z.number().int(), jpeg: z.number().int() }),
      })
      .describe('The quality parameter: lossy WebP and JPEG take it (higher is larger and closer); PNG is lossless and takes none'),
    prices: z
      .record(z.enum(IMAGE_FORMATS), z.record(z.string(), z.number().int()))
      .describe('Rate-limit tokens one generated image costs, by format and size (from the worker CPU it takes); an image a cache or storage answers costs one token by API key, none by signed URL'),
    seconds_per_image: z.number().optional().describe("Seconds per image at batch 1 where the model was imported (noise to pixels); the deadline grows with it"),
  })
  .openapi('Model');

export const listModels = createRoute({
  method: 'get',
  path: '/v1/models',
  summary: 'The models served, with their limits and defaults',
  responses: { 200: { description: 'Models', content: { 'application/json': { schema: z.object({ models: z.array(modelSchema) }) } } } },
});

const classSchema = z.object({ index: z.number().int(), name: z.string(), slug: z.string().describe('The name as an image URL accepts it') }).openapi('ModelClass');

export const listClasses = createRoute({
  method: 'get',
  path: '/v1/models/{model}/classes',
  summary: "A model's classes, or those matching a search",
  description:
    'Without q, every class in index order. With q, the classes whose name or slug contains it (case and punctuation ignored): ' +
    'exact matches first, then names that start with it or have a word that does, then the rest, each in index order. ' +
    'An image URL accepts the index, the name or the slug as its class.',
  request: {
    params: z.object({ model: z.string().openapi({ param: { name: 'model', in: 'path' }, example: 'imf-mnist' }) }),
    query: z.object({
      q: z.string().max(MAX_QUERY_LENGTH).optional().openapi({ example: 'retriever' }),
      limit: z.string().optional().describe(`1..${MAX_CLASSES_PER_PAGE}, default ${MAX_CLASSES_PER_PAGE}`),
      offset: z.string().optional().describe('Matches to skip, default 0'),
    }),
  },
  responses: {
    200: {
      description: 'Classes',
      content: { 'application/json': { schema: z.object({ model: z.string(), total: z.number().int().describe('Matches in all'), offset: z.number().int(), classes: z.array(classSchema) }) } },
    },
    ...problems(400, 404),
  },
});

interface IndexedClass {
  index: number;
  name: string;
  slug: string;
}

/** The classes of `model` matching `query`, best first (exact, then word starts, then anywhere). */
export function searchClasses(classes: readonly IndexedClass[], query: string): IndexedClass[] {
  const wanted = classSlug(query);
  if (wanted === '') return [...classes];
  const rank = (c: IndexedClass): number => {
    if (c.slug === wanted) return 0;
    if (c.slug.startsWith(wanted) || c.slug.includes(`-${wanted}`)) return 1;
    return c.slug.includes(wanted) ? 2 : 3;
  };
  return classes
    .map((c) => ({ c, rank: rank(c) }))
    .filter((r) => r.rank < 3)
    .sort((a, b) => a.rank - b.rank || a.c.index - b.c.index)
    .map((r) => r.c);
}

function wholeNumber(name: string, raw: string | undefined, fallback: number, min: number, max: number, issues: ParamIssue[]): number {
  if (raw === undefined) return fallback;
  const value = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    issues.push({ parameter: name, rule: 'range', detail: `${name} must be a whole number from ${min} to ${max}` });
    return fallback;
  }
  return value;
}

export function registerListModels(app: OpenAPIHono, { registry, config }: RouteContext): void {
  const prices = (m: ModelSummary) =>
    Object.fromEntries(IMAGE_FORMATS.map((format) => [format, Object.fromEntries(allowedSizes(m).map((size) => [String(size), generationPrice({ format, size }, config.rateLimit)]))])) as Record<
      (typeof IMAGE_FORMATS)[number],
      Record<string, number>
    >;
  // The list is fixed for the deployment: build it once.
  const models: z.infer<typeof modelSchema>[] = Object.values(registry).map((m: ModelSummary) => ({
    id: m.id,
    version: m.version,
    resolution: m.image.width,
    channels: m.image.channels,
    color: m.image.channels === 3 ? ('rgb' as const) : ('grayscale' as const),
    ...(m.classes.length <= INLINE_CLASS_NAMES ? { classes: m.classes } : {}),
    class_count: m.classes.length,
    classes_url: `/v1/models/${m.id}/classes`,
    null_class: m.null_class,
    guidance: m.guidance,
    interval: m.interval.default,
    nfe: m.nfe,
    sizes: allowedSizes(m),
    formats: [...IMAGE_FORMATS],
    quality: { formats: [...LOSSY_FORMATS], min: QUALITY_MIN, max: QUALITY_MAX, default: { ...DEFAULT_QUALITY } },
    prices: prices(m),
    ...(m.seconds_per_image === undefined ? {} : { seconds_per_image: m.seconds_per_image }),
  }));
  documented(app, listModels, (c) => c.json({ models }));

  const classLists = new Map(Object.values(registry).map((m) => [m.id, m.classes.map((name, index) => ({ index, name, slug: classSlug(name) }))]));
  documented(app, listClasses, (c) => {
    const id = c.req.param('model')!;
    const instance = new URL(c.req.url).pathname;
    const model = findModel(registry, id);
    if (!model) return problemResponse(problem('not-found', `unknown model "${id}"; known: ${Object.keys(registry).join(', ')}`, { instance }));
    const issues: ParamIssue[] = [];
    const query = new URL(c.req.url).searchParams;
    for (const name of new Set(query.keys())) {
      if (!['q', 'limit', 'offset'].includes(name)) issues.push({ parameter: name, rule: 'unknown', detail: `unknown parameter ${name}; the class list takes q, limit and offset` });
      else if (query.getAll(name).length > 1) issues.push({ parameter: name, rule: 'format', detail: `${name} is given more than once` });
    }
    const q = query.get('q') ?? '';
    if (q.length > MAX_QUERY_LENGTH) issues.push({ parameter: 'q', rule: 'range', detail: `q may be at most ${MAX_QUERY_LENGTH} characters` });
    const limit = wholeNumber('limit', query.get('limit') ?? undefined, MAX_CLASSES_PER_PAGE, 1, MAX_CLASSES_PER_PAGE, issues);
    const offset = wholeNumber('offset', query.get('offset') ?? undefined, 0, 0, 1_000_000, issues);
    if (issues.length > 0) return problemResponse(invalidParameters(issues, instance));
    const matches = searchClasses(classLists.get(model.id)!, q);
    return c.json({ model: model.id, total: matches.length, offset, classes: matches.slice(offset, offset + limit) }, 200, { 'cache-control': 'public, max-age=300' });
  });
}
