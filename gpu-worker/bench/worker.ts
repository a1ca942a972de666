// The worker benchmark (npm run bench [-- --quick] [-- --s3]): raw onnxruntime-node images/s per
// batch size, served images/s and latency at several concurrencies with and without batching, and
// encode and storage time per image. Prints small tables and the machine they ran on.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { WORKER_GENERATE_PATH, WORKER_SECRET_HEADER, type ImageRequest, type WorkerImageRequest } from '@imf/contract';
import { freePort } from '../../infra/local/processes.mjs';
import { measureRawInference } from './raw-inference.js';
import { printTable as table } from '../../test/load/table.js';
import { encodeImage } from '../src/encode/index.js';
import { InferenceThread } from '../src/inference/inference-thread.js';
import { discoverModels } from '../src/models/discover.js';
import type { ImageStore } from '@imf/contract';
import { filesystemStore, nodeS3Store } from '@imf/contract/storage/node';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const withS3 = args.has('--s3');
const SECONDS = quick ? 0.5 : 5;
const THREADS = Number(process.env.INTRA_OP_THREADS ?? 1);
const workerRoot = join(import.meta.dirname, '..');
const modelsDir = process.env.MODELS_DIR ?? join(workerRoot, '..', 'models');
const SECRET = 'benchmark-secret-0123456789';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

// ---------------------------------------------------------------- raw onnxruntime-node
const discovery = await discoverModels(modelsDir);
const model = discovery.models[0];
if (!model) throw new Error(`no servable model in ${modelsDir}`);
const m = model.manifest;
const cores = cpus();
console.log(`# gpu-worker benchmark${quick ? ' (--quick: short runs, rough numbers)' : ''}`);
console.log(`machine: ${cores[0]?.model ?? 'unknown CPU'} × ${cores.length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`node ${process.version}, onnxruntime-node ${ort.env.versions.node}, model ${m.id} ${m.version}, ${THREADS} intra-op thread(s), ${SECONDS} s per cell`);

const sampler = await InferenceThread.open(model, { executionProvider: 'auto', intraOpThreads: THREADS, interOpThreads: 1 });
const raw = await measureRawInference(model.graphPath, m, { batches: [1, 4, 16, 64], seconds: SECONDS, intraOpThreads: THREADS, executionProvider: sampler.executionProvider });
const rawRate: Record<number, number> = Object.fromEntries(raw.map((r) => [r.batch, r.imagesPerSecond]));
const batchMs: Record<number, number> = Object.fromEntries(raw.map((r) => [r.batch, r.medianMs]));
const rawRows = raw.map((r) => [r.batch, r.medianMs.toFixed(2), (r.medianMs / r.batch).toFixed(3), Math.round(r.imagesPerSecond)]);
table(`raw onnxruntime-node (${sampler.executionProvider} EP), median of each batch size`, ['batch', 'ms / batch', 'ms / image', 'images/s'], rawRows);

// ---------------------------------------------------------------- encode and storage
const [pixels] = await sampler.run([{ seed: 1, classIndex: 3, guidance: m.guidance.default, tmin: m.interval.default[0], tmax: m.interval.default[1] }]);
const encodeRows: (string | number)[][] = [];
for (const [format, size] of [['png', m.image.width], ['png', m.image.width * 8], ['webp', m.image.width], ['webp', m.image.width * 8]] as const) {
  for (let i = 0; i < 20; i++) await encodeImage(pixels!, m.image, { format, size }); // JIT and sharp warm-up
  let n = 0;
  let bytes = 0;
  const end = performance.now() + (SECONDS * 1000) / 4;
  const start = performance.now();
  while (performance.now() < end || n < 10) {
    bytes = (await encodeImage(pixels!, m.image, { format, size })).byteLength;
    n++;
  }
  encodeRows.push([`${format} ${size}×${size}`, (((performance.now() - start) * 1000) / n).toFixed(0), bytes]);
}
await sampler.close();
table('encode, per image', ['format', 'µs', 'bytes'], encodeRows);

async function storageCost(store: ImageStore, label: string): Promise<(string | number)[]> {
  const body = await encodeImage(pixels!, m.image, { format: 'png', size: m.image.width });
  const count = quick ? 20 : 200;
  const keys = Array.from({ length: count }, (_, i) => `bench/${Date.now()}-${i}.png`);
  let t = performance.now();
  for (const key of keys) await store.putIfAbsent(key, { body, contentType: 'image/png', metadata: { seed: '1' } });
  const put = (performance.now() - t) / count;
  t = performance.now();
  for (const key of keys) await store.get(key);
  const get = (performance.now() - t) / count;
  return [label, put.toFixed(2), get.toFixed(2)];
}
const storageDir = mkdtempSync(join(tmpdir(), 'imf-bench-store-'));
const storageRows = [await storageCost(filesystemStore(storageDir), 'filesystem')];
let stopS3: (() => Promise<void>) | undefined;
let s3Env: Record<string, string> = {};
if (withS3) {
  const { startS3Server } = await import('../../test/support/s3-server.js');
  const s3 = await startS3Server();
  stopS3 = s3.stop;
  s3Env = { S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_REGION: s3.region, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey };
  const store = nodeS3Store({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, maxAttempts: 1 });
  storageRows.push(await storageCost(store, 'S3 (SeaweedFS, loopback)'));
}
table('storage, per image (one at a time, 28×28 PNG)', ['store', 'put ms', 'get ms'], storageRows);

// ---------------------------------------------------------------- served
interface Served {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
}

/** The worker as deployed: its own process, default logging (one JSON line per request, to /dev/null here). */
async function startWorker(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const storage = mkdtempSync(join(tmpdir(), 'imf-bench-served-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: workerRoot,
    env: {
      ...process.env,
      WORKER_SECRET: SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      MODELS_DIR: modelsDir,
      STORAGE_DIR: storage,
      INTRA_OP_THREADS: String(THREADS),
      REQUEST_TIMEOUT_MS: '60000',
      MAX_QUEUE: '4096',
      ...s3Env,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exited) throw new Error('the worker exited during start-up');
    const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(storage, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

let nextSeed = 1;

/** One fresh request (a new seed: a cache miss, so an inference) as the worker API's JSON body. */
async function missBody(): Promise<string> {
  const req: ImageRequest = { model: m.id, class: nextSeed % m.classes.length, guidance: m.guidance.default, tmin: m.interval.default[0], tmax: m.interval.default[1], seed: nextSeed++, format: 'png', size: m.image.width };
  const body: WorkerImageRequest = { request: req, modelVersion: m.version };
  return JSON.stringify(body);
}

function poster(url: string, sockets: number): { post(body: string): Promise<number>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const { hostname, port } = new URL(url);
  return {
    post: (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ hostname, port, path: WORKER_GENERATE_PATH, method: 'POST', agent, headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: SECRET, 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

/**
 * Open loop: requests arrive as a Poisson process at `rate` per second whether or not earlier ones
 * have finished, as users do. Unlike a closed loop, the latency then measures what the service adds
 * at that load rather than the queue the clients themselves keep full.
 */
async function openLoad(url: string, rate: number): Promise<Served> {
  const client = poster(url, 1024);
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let due = start;
  while (due < end) {
    due += (-Math.log(1 - Math.random()) / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const payload = await missBody();
    const t = performance.now();
    pending.push(
      client.post(payload).then(
        (status) => {
          if (status === 200) latencies.push(performance.now() - t);
          else errors++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

async function load(url: string, concurrency: number): Promise<Served> {
  const { post, close } = poster(url, concurrency);
  const latencies: number[] = [];
  let errors = 0;
  const warmEnd = performance.now() + 200;
  const end = warmEnd + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const payload = await missBody();
        const t = performance.now();
        const status = await post(payload);
        if (t < warmEnd) continue;
        if (status === 200) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  close();
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

// The batching worker runs at the batch size where this machine's raw images/s peaks: what an
// operator sets MAX_BATCH_SIZE to (16 on this CPU, the default; larger on a GPU).
const bestRaw = Math.max(...Object.values(rawRate));
const bestBatch = Number(Object.entries(rawRate).find(([, rate]) => rate === bestRaw)![0]);
const configs = [
  { label: `batching (MAX_BATCH_SIZE=${bestBatch}, 2 ms)`, env: { MAX_BATCH_SIZE: String(bestBatch), MAX_BATCH_DELAY_MS: '2' } },
  { label: 'MAX_BATCH_SIZE=1', env: { MAX_BATCH_SIZE: '1', MAX_BATCH_DELAY_MS: '0' } },
];
const OPEN_LOAD = 0.7;
const served: Record<string, Record<number, Served>> = {};
const servedRows: (string | number)[][] = [];
let open: Served | undefined;
for (const [n, config] of configs.entries()) {
  const worker = await startWorker(config.env);
  served[config.label] = {};
  for (const concurrency of [1, 8, 64]) {
    const r = await load(worker.url, concurrency);
    served[config.label]![concurrency] = r;
    servedRows.push([config.label, `concurrency ${concurrency}`, Math.round(r.rate), r.p50.toFixed(1), r.p99.toFixed(1), r.errors]);
  }
  if (n === 0) {
    open = await openLoad(worker.url, OPEN_LOAD * bestRaw);
    servedRows.push([config.label, `open loop, ${Math.round(OPEN_LOAD * bestRaw)}/s offered`, Math.round(open.rate), open.p50.toFixed(1), open.p99.toFixed(1), open.errors]);
  }
  await worker.stop();
}
table(`served over HTTP (distinct requests, ${withS3 ? 'S3' : 'filesystem'} storage, PNG 28×28)`, ['worker', 'load', 'images/s', 'p50 ms', 'p99 ms', 'errors'], servedRows);

// ---------------------------------------------------------------- targets
const batching = served[configs[0]!.label]!;
const single = served[configs[1]!.label]!;
// With 64 clients each waiting for its answer, 64 requests are always outstanding, so by Little's
// law the mean latency is 64 / throughput: no server can beat 64 / (best raw images/s). The p99
// target is therefore read against that floor, and checked outright at an open-loop load.
const littleFloor = (64 / bestRaw) * 1000;
const checks: [string, boolean, string][] = [
  ['served images/s at concurrency 64 ≥ 70% of the best raw images/s', batching[64]!.rate >= 0.7 * bestRaw, `${Math.round(batching[64]!.rate)} vs ${Math.round(0.7 * bestRaw)}`],
  ['p99 at concurrency 64 < 4 × the batch-16 model time', batching[64]!.p99 < 4 * batchMs[16]!, `${batching[64]!.p99.toFixed(1)} ms vs ${(4 * batchMs[16]!).toFixed(1)} ms (Little's-law floor for 64 clients: ${littleFloor.toFixed(1)} ms mean)`],
  [`p99 at an open-loop ${Math.round(OPEN_LOAD * 100)}% load < 4 × the batch-16 model time`, open!.p99 < 4 * batchMs[16]!, `${open!.p99.toFixed(1)} ms vs ${(4 * batchMs[16]!).toFixed(1)} ms`],
  ...[1, 8, 64].map((c) => [`batching at least as fast as MAX_BATCH_SIZE=1 at concurrency ${c}`, batching[c]!.rate >= single[c]!.rate, `${Math.round(batching[c]!.rate)} vs ${Math.round(single[c]!.rate)} images/s`] as [string, boolean, string]),
];
table('targets', ['target', 'met', 'measured'], checks.map(([what, ok, detail]) => [what, ok ? 'yes' : 'NO', detail]));

rmSync(storageDir, { recursive: true, force: true });
await stopS3?.();
