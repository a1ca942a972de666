// A real S3-compatible server for tests and benchmarks: the local stack's SeaweedFS launcher
// (infra/local/seaweedfs.mjs) on free loopback ports, in a throw-away folder, with one bucket and
// one access key. Used by the edge's and the worker's tests.
//
//   const s3 = await startS3Server();      // { endpoint, region, accessKeyId, secretAccessKey, bucket }
//   …                                      // path-style: `${endpoint}/${bucket}/<key>`
//   await s3.stop();
//
// Node only (child processes). Set WEED_BIN to use another `weed` binary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSeaweed } from '../../infra/local/seaweedfs.mjs';

export interface S3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  stop(): Promise<void>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function startS3Server(options: { bucket?: string } = {}): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'imf-s3-'));
  const secretAccessKey = `test-secret-${crypto.randomUUID()}`;
  let seaweed;
  try {
    seaweed = await startSeaweed({ repoRoot, dir, ports: 'free', bucket: options.bucket ?? 'images', accessKeyId: 'test-access-key', secretAccessKey, log: () => {} });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { service, endpoint, region, accessKeyId, bucket } = seaweed;
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    bucket,
    stop: async () => {
      await service.stop(3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
