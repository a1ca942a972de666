// Named classes inside workerd: the Workers entry's adapters with the named model in the registry.
import { createExecutionContext, env as bindings, waitOnExecutionContext } from 'cloudflare:test';
import { createEdgeApp } from '../../src/app.js';
import { registry } from '../../src/models/registry.js';
import { workersDeps, type WorkersEnv } from '../../src/runtime/workers.js';
import { r2ObjectWriter } from '../../src/storage/adapters/test-objects.js';
import { namedClassBehaviour } from '../named-classes.js';
import type { EdgeTestEnv } from '../support/env.js';
import { withNamedModel } from '../support/named-model.js';

const cf = bindings as unknown as WorkersEnv & { TEST_EDGE: string };
const env = JSON.parse(cf.TEST_EDGE) as EdgeTestEnv;

namedClassBehaviour('workerd', env, async (overrides) => {
  const logs: Record<string, unknown>[] = [];
  const merged = { ...cf, ...overrides } as WorkersEnv;
  const app = createEdgeApp({ ...workersDeps(merged), registry: withNamedModel(registry), log: (line) => logs.push(line) });
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
