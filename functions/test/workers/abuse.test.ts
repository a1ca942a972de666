// The abuse suite inside workerd (Cache API, R2 binding, Durable Object limiter), plus what only
// Workers has: the client's address is CF-Connecting-IP, which Cloudflare sets for every request.
import { createExecutionContext, env as bindings, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createEdgeApp } from '../../src/app.js';
import { registry } from '../../src/models/registry.js';
import { r2ObjectWriter } from '../../src/storage/adapters/test-objects.js';
import { workersDeps, type WorkersEnv } from '../../src/runtime/workers.js';
import { abuseSuite } from '../abuse.js';
import type { StartEdge } from '../behaviour.js';
import { SIGNING_KEYS, type EdgeTestEnv } from '../support/env.js';

const cf = bindings as unknown as WorkersEnv & { TEST_EDGE: string };
const env = JSON.parse(cf.TEST_EDGE) as EdgeTestEnv;

const startEdge: StartEdge = async (overrides) => {
  const logs: Record<string, unknown>[] = [];
  const merged = { ...cf, ...overrides } as WorkersEnv;
  const app = createEdgeApp({ ...workersDeps(merged), log: (line) => logs.push(line) });
  return {
    async fetch(path, init) {
      const ctx = createExecutionContext();
      const response = await app.fetch(new Request(`https://edge.test${path}`, init), merged, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    },
    writeObject: r2ObjectWriter(cf.IMAGES!),
    logs,
    close: async () => {},
  };
};

abuseSuite('workerd', env, startEdge);

describe('abuse resistance, Workers only', () => {
  it('takes the client from CF-Connecting-IP: each address has its own signing budget', async () => {
    const model = Object.values(registry)[0]!;
    const edge = await startEdge({ SIGNING_KEYS, PLAYGROUND_RATE_LIMIT_BURST: '1', PLAYGROUND_RATE_LIMIT_PER_MINUTE: '0.001' });
    const html = await (await edge.fetch('/')).text();
    const token = /name="playground-token" content="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const [a, b] = crypto.getRandomValues(new Uint8Array(2));
    const sign = (ip: string) =>
      edge
        .fetch('/playground/sign', { method: 'POST', headers: { 'content-type': 'application/json', 'x-playground-token': token, 'cf-connecting-ip': ip }, body: JSON.stringify({ model: model.id, class: 1, seed: 1 }) })
        .then((r) => r.status);
    const first = `10.200.${a}.${b}`;
    const second = `10.201.${a}.${b}`;
    expect([await sign(first), await sign(first), await sign(second)]).toEqual([200, 429, 200]);
  });
});
