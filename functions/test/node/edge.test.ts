// The behaviour suite on Node: the edge on @hono/node-server over real HTTP, S3 on SeaweedFS.
import { inject } from 'vitest';
import { startTestNodeEdge } from '../support/node-edge.js';
import { s3ObjectWriter } from '../../src/storage/adapters/test-objects.js';
import { edgeBehaviour } from '../behaviour.js';

const env = inject('edge');

edgeBehaviour('Node', env, async (overrides) => {
  const logs: Record<string, unknown>[] = [];
  const s3 = { S3_ENDPOINT: env.s3.endpoint, S3_BUCKET: env.s3.bucket, S3_ACCESS_KEY_ID: env.s3.accessKeyId, S3_SECRET_ACCESS_KEY: env.s3.secretAccessKey, S3_REGION: env.s3.region };
  const edge = await startTestNodeEdge({ ...s3, ...overrides }, { log: (line) => logs.push(line) });
  return {
    fetch: (path, init) => fetch(edge.url + path, init),
    writeObject: s3ObjectWriter(env.s3),
    logs,
    close: edge.close,
  };
});
