// The API's answer to a failure nobody refused on purpose: a 500 of kind 'internal' that names no
// internals, never one dressed up as an inference failure.
import { describe, expect, it } from 'vitest';
import { createApp, type WorkerState } from './app.js';
import { createLogger } from '../logging/index.js';
import { WorkerMetrics } from '../metrics/index.js';
import type { ImageGenerator } from '../generate/index.js';
import { Writable } from 'node:stream';

const SECRET = 'api-test-secret-0123456789';

function appWhoseGeneratorThrows(error: unknown) {
  const generator = { check: async () => ({ work: {}, served: {} }), generate: async () => Promise.reject(error), servedModels: [] } as unknown as ImageGenerator;
  const state: WorkerState = { phase: () => 'ready', generator: () => generator, refused: () => [] };
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  return createApp(state, { secret: SECRET, maxBodyBytes: 65536, metrics: new WorkerMetrics({ processMetrics: false }), log: createLogger('error', silent) });
}

const body = JSON.stringify({ request: { model: 'm', class: 1, guidance: 3, tmin: 0, tmax: 1, seed: 1, format: 'png', size: 28 }, modelVersion: 'v' });

describe('unexpected errors', () => {
  it("answer 500 of kind 'internal' without the error's own message", async () => {
    const app = appWhoseGeneratorThrows(new TypeError('secret detail of a bug'));
    const response = await app.request('/v1/generate', { method: 'POST', headers: { 'content-type': 'application/json', 'x-imf-worker-secret': SECRET }, body });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { type: string; detail: string };
    expect(problem.type).toBe('urn:imf:worker:internal');
    expect(problem.detail).not.toContain('secret detail');
  });
});
