// GPU workers of the local stack: gpu-worker/ from its sources (tsx), CPU unless onnxruntime-node
// finds CUDA, one process per worker on its own port, ready when /readyz answers 200.
import { join } from 'node:path';
import { answers200, freePort, startService, waitUntil } from './processes.mjs';

/** Environment the worker reads for storage: S3 when `storage.endpoint` is set, else files under `storage.dir`. */
export function workerStorageEnv(storage) {
  if (storage.kind === 's3') {
    return { S3_ENDPOINT: storage.endpoint, S3_BUCKET: storage.bucket, S3_REGION: storage.region, S3_ACCESS_KEY_ID: storage.accessKeyId, S3_SECRET_ACCESS_KEY: storage.secretAccessKey, S3_FORCE_PATH_STYLE: 'true' };
  }
  return { STORAGE_DIR: storage.dir };
}

/** `port`: where to listen (a restart keeps the port the edge knows); default a free one. */
export async function startWorker({ repoRoot, index, port: givenPort, modelsDir = join(repoRoot, 'models'), secret, integrityKey, storage, env = process.env, log, quiet = false, onSpawn }) {
  const port = givenPort || (await freePort());
  const childEnv = {
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKER_SECRET: secret,
    MODELS_DIR: modelsDir,
    LOG_LEVEL: env.WORKER_LOG_LEVEL ?? 'warn',
    ...workerStorageEnv(storage),
    ...(integrityKey ? { STORAGE_INTEGRITY_KEY: integrityKey } : {}),
  };
  // The stack's own S3_* settings must not leak into a filesystem-backed worker.
  if (storage.kind !== 's3') for (const name of Object.keys(childEnv)) if (name.startsWith('S3_')) delete childEnv[name];
  const service = startService(`worker-${index}`, process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: join(repoRoot, 'gpu-worker'), env: childEnv, log, quiet, onSpawn });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(service, 'ready (/readyz)', () => answers200(`${url}/readyz`), 180_000).catch(async (error) => {
    await service.stop();
    throw error;
  });
  return { service, url, port };
}
