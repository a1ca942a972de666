// What the edge puts on the wire to a GPU worker is what the worker parses: the pool's request,
// captured as sent, passes the contract's schema with the secret and the path, and carries the
// request and model version the worker derives the image key from, not the keys themselves.
import { canonicalPath, IMAGE_KEY_HEADER, imageKey, parseImageTarget, WORKER_GENERATE_PATH, WORKER_SECRET_HEADER, workerImageRequestSchema } from '@imf/contract';
import { describe, expect, it } from 'vitest';
import { createImageResolver } from '../images/resolve.js';
import { registry } from '../models/registry.js';
import { WorkerPool } from './index.js';

const model = Object.values(registry)[0]!;

describe('the edge → worker request', () => {
  it('is the contract body for the resolved request and its model version, sent with the shared secret', async () => {
    const sent: { url: string; headers: Headers; body: unknown }[] = [];
    const pool = new WorkerPool({
      workerUrls: ['http://gpu-0'],
      secret: 'wire-test-secret',
      deadlineMs: 1000,
      breakerThreshold: 3,
      breakerCooldownMs: 1000,
      backoffBaseMs: 1,
      readyTimeoutMs: 100,
      attemptMs: 10_000,
      maxInFlight: 0,
      fetch: async (input, init) => {
        sent.push({ url: String(input), headers: new Headers(init?.headers), body: JSON.parse(String(init?.body)) });
        const { request, modelVersion } = workerImageRequestSchema.parse(JSON.parse(String(init?.body)));
        return new Response(new Uint8Array([1]), { headers: { 'content-type': 'image/png', [IMAGE_KEY_HEADER]: await imageKey(request, modelVersion) } });
      },
    });
    const parsed = parseImageTarget(registry, `/v1/images/${model.id}/3.webp?seed=9&guidance=${model.guidance.max}`);
    if (!parsed.ok) throw new Error('should parse');
    const image = await createImageResolver(registry).keyed(parsed.value.request);
    const outcome = await pool.generate(image.key, { request: image.request, modelVersion: image.modelVersion });

    expect(outcome.ok).toBe(true);
    expect(sent).toHaveLength(1);
    const [call] = sent;
    expect(call!.url).toBe(`http://gpu-0${WORKER_GENERATE_PATH}`);
    expect(call!.headers.get(WORKER_SECRET_HEADER)).toBe('wire-test-secret');
    const body = workerImageRequestSchema.parse(call!.body);
    expect(canonicalPath(body.request)).toBe(canonicalPath(parsed.value.request));
    expect(body.modelVersion).toBe(model.version);
    expect(await imageKey(body.request, body.modelVersion)).toBe(image.key);
  });
});
