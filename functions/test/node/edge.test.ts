// The behaviour suite on Node: the edge on @hono/node-server over real HTTP, S3 on SeaweedFS.
import { inject } from 'vitest';
import { startNodeEdge } from '../../src/runtime/node.js';
import { s3Store } from '../../src/storage/adapters/s3.js';
import { edgeBehaviour } from '../behaviour.js';

const env = inject('edge');

edgeBehaviour('Node', env, async (overrides) => {
  const logs: Record<string, unknown>[] = [];
  const s3 = { S3_ENDPOINT: env.s3.endpoint, S3_BUCKET: env.s3.bucket, S3_ACCESS_KEY_ID: env.s3.accessKeyId, S3_SECRET_ACCESS_KEY: env.s3.secretAccessKey, S3_REGION: env.s3.region };
  const edge = await startNodeEdge({ env: { ...s3, ...overrides }, port: 0, deps: { log: (line) => logs.push(line) } });
  return {
    fetch: (path, init) => fetch(edge.url + path, init),
    store: s3Store({ endpoint: env.s3.endpoint, bucket: env.s3.bucket, accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey, region: env.s3.region }),
    logs,
    close: edge.close,
  };
});
