// Starts what the edge's tests talk to over real HTTP, once for both runs (workerd and Node): a
// SeaweedFS S3 server and fake GPU workers in each failure mode, plus a port that refuses.
import type { TestProject } from 'vitest/node';
import { startS3Server, type S3Server } from '../../test/support/s3-server.js';
import { s3ObjectWriter } from '../src/storage/adapters/test-objects.js';
import { refusedUrl, startFakeWorker, type FakeWorker } from './support/fake-worker.js';
import type { EdgeTestEnv } from './support/env.js';

let s3: S3Server | undefined;
const workers: FakeWorker[] = [];

export async function setup(project: TestProject): Promise<void> {
  s3 = await startS3Server({ bucket: 'images' });
  const workerSecret = 'test-worker-secret';
  const ok = await startFakeWorker({ mode: 'ok', secret: workerSecret, writeObject: s3ObjectWriter(s3) });
  const busy = await startFakeWorker({ mode: 'busy', secret: workerSecret });
  const broken = await startFakeWorker({ mode: 'broken', secret: workerSecret });
  const slow = await startFakeWorker({ mode: 'slow', secret: workerSecret, delayMs: 3000 });
  const otherVersion = await startFakeWorker({ mode: 'other-version', secret: workerSecret });
  const wrongKey = await startFakeWorker({ mode: 'wrong-key', secret: workerSecret });
  const half = await startFakeWorker({ mode: 'half', secret: workerSecret, writeObject: s3ObjectWriter(s3) });
  workers.push(ok, busy, broken, slow, otherVersion, wrongKey, half);
  const env: EdgeTestEnv = {
    s3: { endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: s3.region },
    workerSecret,
    upstreams: { ok: ok.url, busy: busy.url, broken: broken.url, slow: slow.url, otherVersion: otherVersion.url, wrongKey: wrongKey.url, half: half.url, refused: await refusedUrl() },
  };
  project.provide('edge', env);
}

export async function teardown(): Promise<void> {
  await Promise.all(workers.map((w) => w.close()));
  await s3?.stop();
}
