// The resolve step: a canonical target is parsed and hashed once and then found by lookup; anything
// else is a redirect to the canonical URL or a problem, and is never remembered.
import { canonicalPath, imageEtag, imageKey, type ImageRequest } from '@imf/contract';
import { describe, expect, it } from 'vitest';
import { registry } from '../models/registry.js';
import { createImageResolver } from './resolve.js';

const model = Object.values(registry)[0]!;
const request: ImageRequest = { model: model.id, class: 2, guidance: model.guidance.default, tmin: model.interval.default[0], tmax: model.interval.default[1], seed: 11, format: 'png', size: model.image.width };

describe('image resolver', () => {
  it('resolves a canonical target to its request, image key and ETag', async () => {
    const resolved = await createImageResolver(registry).resolve(canonicalPath(request));
    const key = await imageKey(request, model.version);
    expect(resolved).toEqual({ kind: 'image', request, modelVersion: model.version, key, etag: imageEtag(key) });
  });

  it('answers a canonical target seen before at once, with the same resolution, without parsing or hashing again', async () => {
    const resolver = createImageResolver(registry);
    const first = await resolver.resolve(canonicalPath(request));
    expect(resolver.resolve(canonicalPath(request))).toBe(first);
    expect(await resolver.keyed({ ...request })).toBe(first);
  });

  it('forgets the oldest targets past its bound', async () => {
    const resolver = createImageResolver(registry, 2);
    const first = await resolver.resolve(canonicalPath(request));
    await resolver.resolve(canonicalPath({ ...request, seed: 12 }));
    await resolver.resolve(canonicalPath({ ...request, seed: 13 }));
    const again = await resolver.resolve(canonicalPath(request));
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });

  it('sends a valid request in another form to its canonical URL', async () => {
    const resolved = await createImageResolver(registry).resolve(`/v1/images/${model.id}/${encodeURIComponent(model.classes[2]!)}.png?seed=11`);
    expect(resolved).toEqual({ kind: 'not-canonical', request, canonical: canonicalPath(request), seedDrawn: false });
  });

  it('draws a fresh seed for each request without one', async () => {
    const resolver = createImageResolver(registry);
    const target = `/v1/images/${model.id}/2.png`;
    const [a, b] = [await resolver.resolve(target), await resolver.resolve(target)];
    expect(a.kind === 'not-canonical' && a.seedDrawn).toBe(true);
    expect(a.kind === 'not-canonical' && b.kind === 'not-canonical' && a.canonical !== b.canonical).toBe(true);
  });

  it('gives the problem and the path it is about for a request that does not parse', async () => {
    const resolved = await createImageResolver(registry).resolve(`/v1/images/${model.id}/2.png?seed=-1`);
    expect(resolved).toMatchObject({ kind: 'invalid', instance: `/v1/images/${model.id}/2.png`, failure: { notFound: false, issues: [{ parameter: 'seed', rule: 'range' }] } });
  });
});
