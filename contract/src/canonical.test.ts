// The canonical request: one form per image, defaults from the manifest, numbers normalised.
import { describe, expect, it } from 'vitest';
import { registry } from './testing/shipped-models.js';
import { latentManifestExample } from './testing/latent-manifest.js';
import {
  allowedSizes,
  canonicalPath,
  classSlug,
  modelManifestSchema,
  summarize,
  consecutiveSeeds,
  formatNumber,
  parseImageBody,
  parseImagePath,
  parseImageTarget,
  DEFAULT_QUALITY,
  type ImageRequest,
} from './index.js';

const [model] = Object.values(registry);
if (!model) throw new Error('no model shipped');
const fixedSeed = () => 1234;

function fromUrl(path: string) {
  const url = new URL(path, 'https://edge.test');
  const [, , , id, file] = url.pathname.split('/');
  return parseImagePath(registry, { model: id!, file: decodeURIComponent(file!), query: url.searchParams }, { drawSeed: fixedSeed });
}

describe('canonical request', () => {
  it('fills every default from the manifest', () => {
    const parsed = fromUrl(`/v1/images/${model.id}/3.png?seed=7`);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.request).toEqual({
      model: model.id,
      class: 3,
      guidance: model.guidance.default,
      tmin: model.interval.default[0],
      tmax: model.interval.default[1],
      seed: 7,
      format: 'png',
      size: model.image.width,
    });
    expect(parsed.value.seedDrawn).toBe(false);
  });

  it('accepts a class by name and by index to the same request', () => {
    const name = model.classes[2]!;
    const a = fromUrl(`/v1/images/${model.id}/${encodeURIComponent(name)}.png?seed=1`);
    const b = fromUrl(`/v1/images/${model.id}/2.png?seed=1`);
    expect(a.ok && b.ok && canonicalPath(a.value.request) === canonicalPath(b.value.request)).toBe(true);
  });

  it('maps "null" to the null class', () => {
    const parsed = fromUrl(`/v1/images/${model.id}/null.png?seed=1`);
    expect(parsed.ok && parsed.value.request.class).toBe(model.null_class);
  });

  it('draws a seed when none is given and says so', () => {
    const parsed = fromUrl(`/v1/images/${model.id}/1.png`);
    expect(parsed.ok && parsed.value.seedDrawn).toBe(true);
    expect(parsed.ok && parsed.value.request.seed).toBe(1234);
  });

  it('writes numbers in one normalised form', () => {
    expect(formatNumber(3)).toBe('3');
    expect(formatNumber(3.0)).toBe('3');
    expect(formatNumber(0.25)).toBe('0.25');
    expect(formatNumber(2.50004)).toBe('2.5');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(0.001)).toBe('0.001');
    const a = fromUrl(`/v1/images/${model.id}/1.png?guidance=${model.guidance.min}.0000&seed=001`);
    expect(a.ok && canonicalPath(a.value.request)).toBe(
      `/v1/images/${model.id}/1.png?guidance=${formatNumber(model.guidance.min)}&tmin=${formatNumber(model.interval.default[0])}&tmax=${formatNumber(model.interval.default[1])}&seed=1&size=${model.image.width}`,
    );
  });

  it('is a fixed point: parsing the canonical path gives the same path', () => {
    const req: ImageRequest = { model: model.id, class: 4, guidance: model.guidance.max, tmin: 0.1, tmax: 0.9, seed: 4294967295, format: 'webp', size: allowedSizes(model)[2]!, quality: 55 };
    const again = fromUrl(canonicalPath(req));
    expect(again.ok && again.value.request).toEqual(req);
  });

  it('writes the query parameters in one order: guidance, tmin, tmax, seed, size', () => {
    const req: ImageRequest = { model: model.id, class: 2, guidance: 2.5, tmin: 0.125, tmax: 1, seed: 7, format: 'png', size: model.image.width };
    expect(canonicalPath(req)).toBe(`/v1/images/${model.id}/2.png?guidance=2.5&tmin=0.125&tmax=1&seed=7&size=${model.image.width}`);
  });

  it.each([
    ['guidance', `guidance=${model.guidance.max + 1}`, 'range'],
    ['guidance', 'guidance=abc', 'type'],
    ['tmin', 'tmin=0.5&tmax=0.5', 'order'],
    ['tmax', 'tmax=1.5', 'range'],
    ['seed', 'seed=4294967296', 'range'],
    ['seed', 'seed=-1', 'range'],
    ['size', 'size=100', 'enum'],
    ['colour', 'colour=red', 'unknown'],
    ['quality', 'quality=90', 'unknown'],
  ])('rejects %s (%s) by rule %s', (parameter, query, rule) => {
    const parsed = fromUrl(`/v1/images/${model.id}/1.png?${query}`);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues).toContainEqual(expect.objectContaining({ parameter, rule }));
  });

  it('rejects an unknown class and format', () => {
    const a = fromUrl(`/v1/images/${model.id}/zebra.png`);
    expect(!a.ok && a.issues[0]).toMatchObject({ parameter: 'class', rule: 'enum' });
    const b = fromUrl(`/v1/images/${model.id}/1.gif`);
    expect(!b.ok && b.issues[0]).toMatchObject({ parameter: 'format', rule: 'enum' });
  });

  it('marks an unknown model as not found', () => {
    const parsed = fromUrl('/v1/images/no-such-model/1.png');
    expect(!parsed.ok && parsed.notFound).toBe(true);
  });
});

describe('request target', () => {
  it('parses a target as its path and query', () => {
    const req: ImageRequest = { model: model.id, class: 1, guidance: model.guidance.default, tmin: 0, tmax: 0.5, seed: 99, format: 'webp', size: model.image.width, quality: 80 };
    const parsed = parseImageTarget(registry, canonicalPath(req));
    expect(parsed.ok && parsed.value.request).toEqual(req);
  });

  it('decodes a percent-encoded class name as the router would', () => {
    const name = model.classes[4]!;
    const parsed = parseImageTarget(registry, `/v1/images/${model.id}/${encodeURIComponent(name).replace(/./, (c) => `%${c.charCodeAt(0).toString(16)}`)}.png?seed=1`);
    expect(parsed.ok && parsed.value.request.class).toBe(4);
  });

  it('refuses a target that is not an image path', () => {
    const parsed = parseImageTarget(registry, `/v1/images/${model.id}/extra/3.png`);
    expect(!parsed.ok && parsed.issues[0]).toMatchObject({ parameter: '(path)' });
  });

  // The query is read into a map without a prototype: Object.prototype's names are unknown
  // parameters like any other, given once.
  it.each(['toString', '__proto__', 'constructor', 'hasOwnProperty'])('reports &%s=1 as an unknown parameter, not as given more than once', (name) => {
    const parsed = parseImageTarget(registry, `/v1/images/${model.id}/3.png?seed=1&${name}=1`);
    expect(!parsed.ok && parsed.issues).toEqual([{ parameter: name, rule: 'unknown', detail: `unknown parameter "${name}"` }]);
  });

  it('names a repeated parameter once, however often it is repeated', () => {
    const parsed = parseImageTarget(registry, `/v1/images/${model.id}/3.png?${'seed=1&'.repeat(500)}seed=2`);
    expect(!parsed.ok && parsed.issues).toEqual([{ parameter: 'seed', rule: 'format', detail: 'seed is given more than once' }]);
  });
});

describe('JSON body', () => {
  it('parses the same request as the URL', () => {
    const parsed = parseImageBody(registry, { model: model.id, class: model.classes[5], seed: 9, interval: model.interval.default });
    const url = fromUrl(`/v1/images/${model.id}/5.png?seed=9`);
    expect(parsed.ok && url.ok && canonicalPath(parsed.value.request)).toBe(url.ok && canonicalPath(url.value.request));
    expect(parsed.ok && parsed.value.n).toBe(1);
  });

  it('names interval parameters and n in its errors', () => {
    const parsed = parseImageBody(registry, { model: model.id, class: 1, interval: [0.9, 0.1], n: 17 });
    expect(!parsed.ok && parsed.issues.map((i) => [i.parameter, i.rule])).toEqual([
      ['interval[0]', 'order'],
      ['n', 'range'],
    ]);
  });

  it('rejects unknown and mistyped fields', () => {
    const parsed = parseImageBody(registry, { model: model.id, class: 1, steps: 4, guidance: '3' });
    expect(!parsed.ok && parsed.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ parameter: 'steps', rule: 'unknown' }),
        expect.objectContaining({ parameter: 'guidance', rule: 'type' }),
      ]),
    );
  });

  it('gives consecutive seeds for a batch, wrapping at 2^32', () => {
    const parsed = parseImageBody(registry, { model: model.id, class: 1, seed: 4294967295, n: 2 });
    if (!parsed.ok) throw new Error('should parse');
    expect(consecutiveSeeds(parsed.value.request, 2).map((r) => r.seed)).toEqual([4294967295, 0]);
  });
});

describe('named classes', () => {
  const named = summarize(modelManifestSchema.parse(latentManifestExample()));
  const namedRegistry = { [named.id]: named };
  const parse = (file: string, query = '') => parseImagePath(namedRegistry, { model: named.id, file, query: new URLSearchParams(`seed=1${query ? `&${query}` : ''}`) });
  const classOf = (file: string) => {
    const parsed = parse(file);
    return parsed.ok ? parsed.value.request.class : parsed.issues;
  };

  it('writes a name as its URL slug', () => {
    expect(classSlug('Golden Retriever')).toBe('golden-retriever');
    expect(classSlug("jack-o'-lantern")).toBe('jack-o-lantern');
    expect(classSlug('  T-shirt, tee shirt ')).toBe('t-shirt-tee-shirt');
  });

  it('accepts a class by index, by name and by slug, all as the same index', () => {
    expect([classOf('1.png'), classOf('Golden Retriever.png'), classOf('golden-retriever.png'), classOf('GOLDEN-RETRIEVER.png')]).toEqual([1, 1, 1, 1]);
  });

  it('takes no class from a name with something before or after it: "-1", "3!" and " 7" are errors, not classes', () => {
    const digits = { ...named, classes: Array.from({ length: 10 }, (_, i) => String(i)), null_class: 10 };
    const classIn = (file: string) => {
      const parsed = parseImagePath({ [named.id]: digits }, { model: named.id, file, query: new URLSearchParams('seed=1') });
      return parsed.ok ? parsed.value.request.class : parsed.issues[0]!.parameter;
    };
    expect([classIn('-7.png'), classIn('3!.png'), classIn(' 7.png'), classIn('7-.png')]).toEqual(['class', 'class', 'class', 'class']);
    expect([classIn('7.png'), classIn('07.png')]).toEqual([7, 7]);
    expect([classOf('golden_retriever.png'), classOf('-golden-retriever.png')]).toEqual([1, [expect.objectContaining({ parameter: 'class' })]]);
  });

  it('writes the canonical URL with the index', () => {
    const parsed = parse('giant-panda.png');
    expect(parsed.ok && canonicalPath(parsed.value.request)).toBe(`/v1/images/${named.id}/2.png?guidance=8&tmin=0.4&tmax=0.65&seed=1&size=64`);
  });

  it('points to the class list instead of listing many names', () => {
    const many = { ...named, classes: Array.from({ length: 1000 }, (_, i) => `class ${i}`), null_class: 1000 };
    const parsed = parseImagePath({ [named.id]: many }, { model: named.id, file: 'zebra.png', query: new URLSearchParams() });
    expect(!parsed.ok && parsed.issues[0]!.detail).toMatch(/GET \/v1\/models\/imf-tiny-rgb\/classes lists them/);
    expect(!parsed.ok && parsed.issues[0]!.detail.length).toBeLessThan(300);
  });

  it('gives a lossy format its default quality, last in the canonical URL, and a PNG none', () => {
    const webp = parse('1.webp');
    expect(webp.ok && webp.value.request.quality).toBe(DEFAULT_QUALITY.webp);
    expect(webp.ok && canonicalPath(webp.value.request)).toMatch(new RegExp(`&size=\\d+&quality=${DEFAULT_QUALITY.webp}$`));
    const jpeg = parse('1.jpeg', 'quality=35');
    expect(jpeg.ok && jpeg.value.request.quality).toBe(35);
    const png = parse('1.png');
    expect(png.ok && 'quality' in png.value.request).toBe(false);
    expect(png.ok && canonicalPath(png.value.request)).not.toMatch(/quality/);
  });

  it.each(['0', '101', '80.5', 'high', '-5', '1e2'])('rejects quality=%s', (quality) => {
    const parsed = parse('1.jpeg', `quality=${quality}`);
    expect(!parsed.ok && parsed.issues).toContainEqual(expect.objectContaining({ parameter: 'quality', rule: 'range' }));
  });

  it('takes quality in a JSON body, and refuses it for PNG', () => {
    const body = { model: named.id, class: 1, format: 'webp', quality: 60 };
    const ok = parseImageBody({ [named.id]: named }, body);
    expect(ok.ok && ok.value.request.quality).toBe(60);
    const png = parseImageBody({ [named.id]: named }, { ...body, format: 'png' });
    expect(!png.ok && png.issues).toContainEqual(expect.objectContaining({ parameter: 'quality', rule: 'unknown' }));
    const wrong = parseImageBody({ [named.id]: named }, { ...body, quality: 0 });
    expect(!wrong.ok && wrong.issues).toContainEqual(expect.objectContaining({ parameter: 'quality', rule: 'range' }));
  });

  it('takes .jpg as JPEG, whose canonical extension is .jpeg', () => {
    const parsed = parse('1.jpg');
    expect(parsed.ok && parsed.value.request.format).toBe('jpeg');
    expect(parsed.ok && canonicalPath(parsed.value.request)).toMatch(/\/1\.jpeg\?/);
  });
});
