// A storage outage degrades to generating on the pool (the worker rewrites the object) and makes
// the edge unready; it never turns an image request into a 5xx by itself.
import { expect, inject, it } from 'vitest';
import { canonicalPath } from '@imf/contract';
import { hashApiKey } from '../../src/auth/index.js';
import { registry } from '../../src/models/registry.js';
import { startNodeEdge } from '../../src/runtime/node.js';
import { API_KEY, SIGNING_KEYS } from '../support/env.js';

const env = inject('edge');
const model = Object.values(registry)[0]!;

it('generates when storage is unreachable, and reports storage unready', async () => {
  const edge = await startNodeEdge({
    port: 0,
    env: {
      API_KEY_HASHES: await hashApiKey(API_KEY),
      SIGNING_KEYS,
      WORKER_URLS: env.upstreams.ok,
      WORKER_SECRET: env.workerSecret,
      S3_ENDPOINT: env.upstreams.refused,
      S3_ACCESS_KEY_ID: 'x',
      S3_SECRET_ACCESS_KEY: 'y',
      LOG_REQUESTS: 'false',
    },
  });
  try {
    const seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
    const path = canonicalPath({ model: model.id, class: 1, guidance: model.guidance.default, tmin: model.interval.default[0], tmax: model.interval.default[1], seed, format: 'png', size: model.image.width });
    const response = await fetch(edge.url + path, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-image-tier')).toBe('generated');
    const ready = await fetch(`${edge.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ storage: 'unreachable' });
  } finally {
    await edge.close();
  }
});
