// Prices and usage on Node: the edge over real HTTP with the large model in its registry.
import { inject } from 'vitest';
import { registry } from '../../src/models/registry.js';
import { startNodeEdge } from '../../src/runtime/node.js';
import { s3ObjectWriter } from '../../src/storage/adapters/test-objects.js';
import { pricingBehaviour } from '../pricing.js';
import { withLargeModel } from '../support/large-model.js';

const env = inject('edge');

pricingBehaviour('Node', env, async (overrides) => {
  const logs: Record<string, unknown>[] = [];
  const s3 = { S3_ENDPOINT: env.s3.endpoint, S3_BUCKET: env.s3.bucket, S3_ACCESS_KEY_ID: env.s3.accessKeyId, S3_SECRET_ACCESS_KEY: env.s3.secretAccessKey, S3_REGION: env.s3.region };
  const edge = await startNodeEdge({ env: { ...s3, ...overrides }, port: 0, deps: { log: (line) => logs.push(line), registry: withLargeModel(registry) } });
  return { fetch: (path, init) => fetch(edge.url + path, init), writeObject: s3ObjectWriter(env.s3), logs, close: edge.close };
});
