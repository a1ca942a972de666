// Storage calls per miss through the real stack: the edge looks the key up once (in SeaweedFS),
// finds nothing, and says so to the worker, which makes no lookup of its own and one write-once
// put (functions/src/images/tiers.test.ts counts the edge's lookup; the worker's own calls are
// counted at a proxy in gpu-worker/test/storage-calls.test.ts). Read here from the worker's metrics.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalPath, defaultSize } from '@imf/contract';
import { shippedModel, startTestStack, type TestStack } from './support/stack.js';

const { manifest } = shippedModel();
const MISSES = 12;

let stack: TestStack & { cleanup(): Promise<void> };

beforeAll(async () => {
  stack = await startTestStack({ workers: 1 });
});
afterAll(async () => {
  await stack?.cleanup();
});

/** The worker's storage calls so far, by operation (imf_worker_storage_seconds_count). */
async function workerStorageCalls(): Promise<{ get: number; put: number }> {
  const text = await (await fetch(`${stack.workers[0]!.url}/metrics`)).text();
  const calls = { get: 0, put: 0 };
  for (const line of text.split('\n')) {
    const match = /^imf_worker_storage_seconds_count\{[^}]*operation="(get|put)"[^}]*\} (\d+)/.exec(line);
    if (match) calls[match[1] as 'get' | 'put'] += Number(match[2]);
  }
  return calls;
}

it('makes the worker skip its lookup on a miss the edge just looked up: one put per miss, no get', async () => {
  const seed0 = 8_000_000 + Math.floor(Math.random() * 1_000_000);
  const before = await workerStorageCalls();
  for (let i = 0; i < MISSES; i++) {
    const path = canonicalPath({ model: manifest.id, class: i % 10, guidance: manifest.guidance.default, tmin: manifest.interval.default[0], tmax: manifest.interval.default[1], seed: seed0 + i, format: 'png', size: defaultSize(manifest) });
    const response = await fetch(new URL(path, stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` } });
    await response.arrayBuffer();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-image-tier')).toBe('generated');
  }
  const after = await workerStorageCalls();
  expect({ get: after.get - before.get, put: after.put - before.put }).toEqual({ get: 0, put: MISSES });
});
