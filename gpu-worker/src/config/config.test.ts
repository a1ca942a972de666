// Configuration from the environment: defaults, storage selection, and clear refusals.
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './index.js';

const secret = 'a-shared-secret-of-some-length';

describe('readConfig', () => {
  it('fills every default around the one required value', () => {
    const config = readConfig({ WORKER_SECRET: secret });
    expect(config).toMatchObject({
      port: 8080,
      maxBatchSize: 16,
      maxBatchDelayMs: 2,
      maxQueue: 256,
      requestTimeoutMs: 10_000,
      shedAfterMs: 5_000,
      intraOpThreads: 1,
      interOpThreads: 1,
      executionProvider: 'auto',
      cudaDeviceId: 0,
      storage: { kind: 'filesystem' },
    });
  });

  it('runs on the GPU CUDA_DEVICE_ID names, and refuses one that is not an index', () => {
    expect(readConfig({ WORKER_SECRET: secret, CUDA_DEVICE_ID: '3' }).cudaDeviceId).toBe(3);
    expect(() => readConfig({ WORKER_SECRET: secret, CUDA_DEVICE_ID: 'gpu0' })).toThrow(/CUDA_DEVICE_ID/);
  });

  it('selects S3 storage when an endpoint is configured', () => {
    const config = readConfig({
      WORKER_SECRET: secret,
      S3_ENDPOINT: 'http://127.0.0.1:8333',
      S3_BUCKET: 'images',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'key',
      S3_FORCE_PATH_STYLE: 'false',
    });
    expect(config.storage).toMatchObject({
      kind: 's3',
      endpoint: 'http://127.0.0.1:8333',
      bucket: 'images',
      region: 'us-east-1',
      forcePathStyle: false,
      conditionalPut: true,
      accessKeyId: 'id',
      secretAccessKey: 'key',
    });
  });

  it("takes AWS's own credential variables when no S3_* keys are set, and refuses S3 storage without any", () => {
    const config = readConfig({ WORKER_SECRET: secret, S3_BUCKET: 'images', AWS_ACCESS_KEY_ID: 'aws-id', AWS_SECRET_ACCESS_KEY: 'aws-key', AWS_SESSION_TOKEN: 'token' });
    expect(config.storage).toMatchObject({ kind: 's3', endpoint: undefined, accessKeyId: 'aws-id', secretAccessKey: 'aws-key', sessionToken: 'token' });
    expect(() => readConfig({ WORKER_SECRET: secret, S3_ENDPOINT: 'http://127.0.0.1:8333', S3_BUCKET: 'images' })).toThrow(/needs credentials/);
  });

  it('reports every invalid value at once, each naming its variable', () => {
    let error: unknown;
    try {
      readConfig({ MAX_BATCH_SIZE: '0', MAX_QUEUE: 'lots', EXECUTION_PROVIDER: 'tpu', S3_ENDPOINT: 'http://s3', S3_ACCESS_KEY_ID: 'id' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['WORKER_SECRET', 'MAX_BATCH_SIZE', 'MAX_QUEUE', 'EXECUTION_PROVIDER', 'S3_BUCKET', 'S3_SECRET_ACCESS_KEY']) {
      expect(problems).toContain(name);
    }
  });

  it('refuses a short shared secret', () => {
    expect(() => readConfig({ WORKER_SECRET: 'short' })).toThrow(/at least 16 characters/);
  });
});
