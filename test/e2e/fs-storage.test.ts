// Filesystem mode (STACK_STORAGE=fs) through the real stack: the worker writes images as files and
// the edge on Node reads the same folder, so storage stays a tier of its own. An image generated
// once is answered from storage after an edge restart (which empties its in-process cache), with
// its integrity tag checked, and the worker is asked nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalPath } from '@imf/contract';
import { inferredImages, requestsFor, shippedModel, startTestStack, type TestStack } from './support/stack.js';

const { manifest } = shippedModel();
const request = requestsFor(manifest, 9_000_000);

let stack: TestStack & { cleanup(): Promise<void> };

beforeAll(async () => {
  stack = await startTestStack({ workers: 1, storage: 'fs' });
});
afterAll(async () => {
  await stack?.cleanup();
});

async function get(path: string) {
  const response = await fetch(new URL(path, stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` } });
  return { status: response.status, tier: response.headers.get('x-image-tier'), body: new Uint8Array(await response.arrayBuffer()) };
}

it('answers an image the worker stored as a file from storage after the edge restarts', async () => {
  expect(stack.storage.kind).toBe('fs');
  const path = canonicalPath(request());
  const first = await get(path);
  expect([first.status, first.tier]).toEqual([200, 'generated']);

  await stack.restartEdge();
  const inferred = await inferredImages(stack.workers);
  const again = await get(path);
  expect([again.status, again.tier]).toEqual([200, 'storage']);
  expect(Array.from(again.body)).toEqual(Array.from(first.body));
  expect(await inferredImages(stack.workers)).toBe(inferred);
});

it('reports the storage tier ready on /readyz', async () => {
  const ready = await fetch(new URL('/readyz', stack.url));
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ storage: 'ready' });
});
