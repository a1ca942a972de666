// Named classes on Node: the edge over real HTTP with the named model in its registry.
import { inject } from 'vitest';
import { registry } from '../../src/models/registry.js';
import { startNodeEdge } from '../../src/runtime/node.js';
import { s3ObjectWriter } from '../../src/storage/adapters/test-objects.js';
import { namedClassBehaviour } from '../named-classes.js';
import { withNamedModel } from '../support/named-model.js';

const env = inject('edge');

namedClassBehaviour('Node', env, async (overrides) => {
  const logs: Record<string, unknown>[] = [];
  const edge = await startNodeEdge({ env: overrides, port: 0, deps: { log: (line) => logs.push(line), registry: withNamedModel(registry) } });
  return { fetch: (path, init) => fetch(edge.url + path, init), writeObject: s3ObjectWriter(env.s3), logs, close: edge.close };
});
