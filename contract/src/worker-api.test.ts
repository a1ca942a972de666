// The body the edge sends a GPU worker is exactly what the worker's schema accepts.
import { describe, expect, it } from 'vitest';
import { registry } from './testing/shipped-models.js';
import { imageKey, objectKey, parseImageBody, workerGenerateBodySchema, type WorkerGenerateBody } from './index.js';

const model = Object.values(registry)[0]!;

describe('worker API', () => {
  it('accepts a canonical request with its keys', async () => {
    const parsed = parseImageBody(registry, { model: model.id, class: model.classes[1], seed: 7 });
    if (!parsed.ok) throw new Error('should parse');
    const request = parsed.value.request;
    const key = await imageKey(request, model.version);
    const body: WorkerGenerateBody = { requests: [{ request, modelVersion: model.version, key, objectKey: objectKey(request, model.version, key) }] };
    expect(workerGenerateBodySchema.parse(JSON.parse(JSON.stringify(body)))).toEqual(body);
  });

  it('rejects extra fields, a bad key and an empty batch', () => {
    const request = { model: model.id, class: 1, guidance: 3, tmin: 0, tmax: 1, seed: 1, format: 'png', size: model.image.width };
    const item = { request, modelVersion: model.version, key: 'a'.repeat(64), objectKey: 'images/x.png' };
    expect(workerGenerateBodySchema.safeParse({ requests: [] }).success).toBe(false);
    expect(workerGenerateBodySchema.safeParse({ requests: [{ ...item, key: 'nothex' }] }).success).toBe(false);
    expect(workerGenerateBodySchema.safeParse({ requests: [{ ...item, request: { ...request, steps: 2 } }] }).success).toBe(false);
  });
});
