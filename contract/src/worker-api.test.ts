// The worker's request body: what the canonical parser and the keys produce is accepted, and each
// way of being off the contract is refused by the schema the worker parses with.
import { describe, expect, it } from 'vitest';
import { registry } from './testing/shipped-models.js';
import { imageKey, MAX_IMAGES_PER_REQUEST, objectKey, parseImageBody, workerGenerateBodySchema, type WorkerImageRequest } from './index.js';

const model = Object.values(registry)[0]!;

/** A body as JSON, to be changed in ways its type forbids. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function item(): Promise<WorkerImageRequest> {
  const parsed = parseImageBody(registry, { model: model.id, class: model.classes[1], seed: 7, guidance: model.guidance.min + 0.25 });
  if (!parsed.ok) throw new Error('should parse');
  const request = parsed.value.request;
  const key = await imageKey(request, model.version);
  return { request, modelVersion: model.version, key, objectKey: objectKey(request, model.version, key) };
}

/** The schema's verdict on a body whose one request was changed by `change`. */
async function accepts(change: (body: Json) => void): Promise<boolean> {
  const body = { requests: [await item()] };
  change(body);
  return workerGenerateBodySchema.safeParse(JSON.parse(JSON.stringify(body))).success;
}

describe('worker API request body', () => {
  it('accepts a parsed request with its image and object keys', async () => {
    expect(await accepts(() => {})).toBe(true);
  });

  it("accepts the edge's word that it just found no object in storage (storageChecked), and only a boolean", async () => {
    expect(await accepts((b) => (b.requests[0].storageChecked = true))).toBe(true);
    expect(await accepts((b) => (b.requests[0].storageChecked = false))).toBe(true);
    expect(await accepts((b) => (b.requests[0].storageChecked = 'yes'))).toBe(false);
  });

  it('accepts up to MAX_IMAGES_PER_REQUEST requests and no fewer than one', async () => {
    const one = await item();
    expect(workerGenerateBodySchema.safeParse({ requests: Array(MAX_IMAGES_PER_REQUEST).fill(one) }).success).toBe(true);
    expect(workerGenerateBodySchema.safeParse({ requests: Array(MAX_IMAGES_PER_REQUEST + 1).fill(one) }).success).toBe(false);
    expect(workerGenerateBodySchema.safeParse({ requests: [] }).success).toBe(false);
  });

  it.each([
    ['an unknown field in the request', (b: Json) => (b.requests[0].request.steps = 2)],
    ['an unknown field beside it', (b: Json) => (b.requests[0].priority = 1)],
    ['an unknown field in the body', (b: Json) => (b.callback = 'x')],
    ['a key that is not 64 hex digits', (b: Json) => (b.requests[0].key = 'nothex')],
    ['a class given by name', (b: Json) => (b.requests[0].request.class = '1')],
    ['a seed past 32 bits', (b: Json) => (b.requests[0].request.seed = 2 ** 32)],
    ['a format it does not encode', (b: Json) => (b.requests[0].request.format = 'gif')],
    ['a missing size', (b: Json) => delete b.requests[0].request.size],
  ])('refuses %s', async (_name, change) => {
    expect(await accepts(change)).toBe(false);
  });
});
