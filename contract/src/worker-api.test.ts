// The worker's request body: one canonical request and its model version is accepted, and each way
// of being off the contract (the keys, which the worker derives itself, or several requests
// included) is refused by the schema the worker parses with.
import { describe, expect, it } from 'vitest';
import { registry } from './testing/shipped-models.js';
import { imageKey, objectKey, parseImageBody, workerImageRequestSchema, type WorkerImageRequest } from './index.js';

const model = Object.values(registry)[0]!;

/** A body as JSON, to be changed in ways its type forbids. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function item(): Promise<WorkerImageRequest> {
  const parsed = parseImageBody(registry, { model: model.id, class: model.classes[1], seed: 7, guidance: model.guidance.min + 0.25 });
  if (!parsed.ok) throw new Error('should parse');
  return { request: parsed.value.request, modelVersion: model.version };
}

/** The schema's verdict on a body changed by `change`. */
async function accepts(change: (body: Json) => void): Promise<boolean> {
  const body: Json = await item();
  change(body);
  return workerImageRequestSchema.safeParse(JSON.parse(JSON.stringify(body))).success;
}

describe('worker API request body', () => {
  it('accepts a parsed request with its model version', async () => {
    expect(await accepts(() => {})).toBe(true);
  });

  it("accepts the edge's word that it just found no object in storage (storageChecked), and only a boolean", async () => {
    expect(await accepts((b) => (b.storageChecked = true))).toBe(true);
    expect(await accepts((b) => (b.storageChecked = false))).toBe(true);
    expect(await accepts((b) => (b.storageChecked = 'yes'))).toBe(false);
  });

  it('refuses the keys: the worker derives them from the request and version', async () => {
    const { request, modelVersion } = await item();
    const key = await imageKey(request, modelVersion);
    expect(await accepts((b) => (b.key = key))).toBe(false);
    expect(await accepts((b) => (b.objectKey = objectKey(request, modelVersion, key)))).toBe(false);
  });

  it('refuses several requests in one body: one call is one image', async () => {
    const one = await item();
    expect(workerImageRequestSchema.safeParse({ requests: [one] }).success).toBe(false);
    expect(workerImageRequestSchema.safeParse({ requests: [one, one] }).success).toBe(false);
    expect(await accepts((b) => (b.requests = [one]))).toBe(false);
  });

  it.each([
    ['an unknown field in the request', (b: Json) => (b.request.steps = 2)],
    ['an unknown field beside it', (b: Json) => (b.priority = 1)],
    ['a missing model version', (b: Json) => delete b.modelVersion],
    ['a class given by name', (b: Json) => (b.request.class = '1')],
    ['a seed past 32 bits', (b: Json) => (b.request.seed = 2 ** 32)],
    ['a format it does not encode', (b: Json) => (b.request.format = 'gif')],
    ['a missing size', (b: Json) => delete b.request.size],
  ])('refuses %s', async (_name, change) => {
    expect(await accepts(change)).toBe(false);
  });
});
