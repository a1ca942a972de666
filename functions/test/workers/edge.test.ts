// The behaviour suite inside workerd: the Workers entry's adapters (Cache API, R2 binding, KV,
// Durable Object rate limiter) from the real bindings of wrangler.toml, upstreams over HTTP.
import { createExecutionContext, env as bindings, waitOnExecutionContext } from 'cloudflare:test';
import { createEdgeApp } from '../../src/app.js';
import { r2ObjectWriter } from '../../src/storage/adapters/test-objects.js';
import { workersDeps, type WorkersEnv } from '../../src/runtime/workers.js';
import { edgeBehaviour } from '../behaviour.js';
import type { EdgeTestEnv } from '../support/env.js';

const cf = bindings as unknown as WorkersEnv & { TEST_EDGE: string };
const env = JSON.parse(cf.TEST_EDGE) as EdgeTestEnv;

edgeBehaviour('workerd', env, async (overrides) => {
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
});
