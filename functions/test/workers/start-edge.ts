// An edge inside workerd for the shared suites: the Workers entry's adapters from the real
// bindings of wrangler.toml, with `deps` laid over them (a log sink is always added).
import { createExecutionContext, env as bindings, waitOnExecutionContext } from 'cloudflare:test';
import { createEdgeApp } from '../../src/app.js';
import { r2Store } from '../../src/storage/adapters/r2.js';
import { objectWriter } from '../../src/storage/adapters/test-objects.js';
import { workersDeps, type WorkersEnv } from '../../src/runtime/workers.js';
import type { StartEdge } from '../behaviour.js';
import type { EdgeTestEnv } from '../support/env.js';

export const cf = bindings as unknown as WorkersEnv & { TEST_EDGE: string };
export const env = JSON.parse(cf.TEST_EDGE) as EdgeTestEnv;

export function workersEdge(deps: Partial<Parameters<typeof createEdgeApp>[0]> = {}): StartEdge {
  return async (overrides) => {
    const logs: Record<string, unknown>[] = [];
    const merged = { ...cf, ...overrides } as WorkersEnv;
    const app = createEdgeApp({ ...workersDeps(merged), ...deps, log: (line) => logs.push(line) });
    return {
      async fetch(path, init) {
        const ctx = createExecutionContext();
        const response = await app.fetch(new Request(`https://edge.test${path}`, init), merged, ctx);
        await waitOnExecutionContext(ctx);
        return response;
      },
      writeObject: objectWriter(r2Store(cf.IMAGES!)),
      logs,
      close: async () => {},
    };
  };
}
