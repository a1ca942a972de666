// Starting a real worker in the test process, and building requests the way the edge does (with
// the shared contract's canonical form and keys).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { defaultQuality, imageKey, type ImageRequest, type ModelManifest, objectKey, type S3Location, WORKER_GENERATE_PATH, WORKER_SECRET_HEADER, type WorkerImageRequest } from '@imf/contract';
import { readConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging/index.js';
import { WorkerMetrics } from '../../src/metrics/index.js';
import { GpuWorker } from '../../src/worker.js';
import { repoPath } from '../paths.js';

export const SECRET = 'test-worker-secret-0123456789';

export interface TestWorker {
  worker: GpuWorker;
  url: string;
  /** Every log line the worker wrote, parsed. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** The worker's S3_* settings for an S3 server, reached at `endpoint` (a proxy in front of it, say). */
export function s3Env(server: S3Location & { endpoint: string }, endpoint = server.endpoint): Record<string, string> {
  return { S3_ENDPOINT: endpoint, S3_BUCKET: server.bucket, S3_REGION: server.region, S3_ACCESS_KEY_ID: server.accessKeyId, S3_SECRET_ACCESS_KEY: server.secretAccessKey };
}

/** A worker on a free port serving the repository's models/, with file storage in a fresh folder unless env says otherwise. */
export async function startTestWorker(env: Record<string, string> = {}): Promise<TestWorker> {
  const storageDir = mkdtempSync(join(tmpdir(), 'imf-worker-images-'));
  const config = readConfig({
    WORKER_SECRET: SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    MODELS_DIR: repoPath('models'),
    STORAGE_DIR: storageDir,
    LOG_LEVEL: 'info',
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const worker = await GpuWorker.start(config, { log: createLogger(config.logLevel, sink), metrics: new WorkerMetrics({ processMetrics: false }) });
  return {
    worker,
    url: worker.url,
    logs,
    stop: async () => {
      await worker.shutdown();
      rmSync(storageDir, { recursive: true, force: true });
    },
  };
}

/** A request as the edge sends it, with the keys the contract derives for it: what the worker must answer. */
export interface TestWork extends WorkerImageRequest {
  key: string;
  objectKey: string;
}

/** A canonical request with the model's defaults for whatever is not given, keyed like the edge keys it. */
export async function workRequest(manifest: ModelManifest, given: Partial<ImageRequest> = {}): Promise<TestWork> {
  const request: ImageRequest = {
    model: manifest.id,
    class: 0,
    guidance: manifest.guidance.default,
    tmin: manifest.interval.default[0],
    tmax: manifest.interval.default[1],
    seed: 0,
    format: 'png',
    size: manifest.image.width,
    ...defaultQuality(given.format ?? 'png'),
    ...given,
  };
  const key = await imageKey(request, manifest.version);
  return { request, modelVersion: manifest.version, key, objectKey: objectKey(request, manifest.version, key) };
}

/** Asks for one image with the wire body of `work`: its request, model version and storageChecked, never its keys. */
export function generate(url: string, work: WorkerImageRequest, headers: Record<string, string> = {}): Promise<Response> {
  const body: WorkerImageRequest = { request: work.request, modelVersion: work.modelVersion, ...(work.storageChecked === undefined ? {} : { storageChecked: work.storageChecked }) };
  return fetch(`${url}${WORKER_GENERATE_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: SECRET, ...headers },
    body: JSON.stringify(body),
  });
}

/** One counter or histogram series from the Prometheus text of /metrics (0 when absent). */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? ([-+\d.eE]+|NaN)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const series = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => series[k] === v)) total += Number(match[3]);
  }
  return total;
}
