// The whole local stack as one value: storage, N GPU workers and the edge, started in that order
// and stopped in reverse, each supervised once up (supervisor.mjs): a process that dies is started
// again in its place while the edge routes around it. Used by `npm start` (stack.mjs) and by the
// end-to-end tests.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNodeEdge, edgeVars, startEdge } from './edge.mjs';
import { stackSecrets } from './secrets.mjs';
import { startSeaweed } from './seaweedfs.mjs';
import { supervise } from './supervisor.mjs';
import { startWorker } from './workers.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * options: storage 's3' (SeaweedFS) | 'fs' (the worker's filesystem store); workers (count);
 * edge 'node' | 'workerd'; port (0: free); host; dataDir; modelsDir (default models/: every folder
 * with a model.json, e.g. one `npm run model:import` wrote); s3Ports 'fixed' | 'free'; quiet; log;
 * env; signal (AbortSignal: aborting while starting stops what was started and rejects);
 * supervision (supervisor.mjs options: restarts, windowMs, baseMs, maxMs).
 */
export async function startStack(options = {}) {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line) => process.stderr.write(line + '\n'));
  const quiet = options.quiet ?? false;
  const dataDir = resolve(options.dataDir ?? join(repoRoot, '.data'));
  const storageKind = options.storage ?? 's3';
  const workerCount = options.workers ?? 1;
  const edgeRuntime = options.edge ?? 'node';
  const modelsDir = resolve(options.modelsDir ?? join(repoRoot, 'models'));
  // workerd bundles its models at build time (functions/scripts/generate-registry.ts reads models/);
  // the Node edge reads MODELS_DIR when it starts.
  if (edgeRuntime === 'workerd' && modelsDir !== join(repoRoot, 'models')) throw new Error('a models folder other than models/ needs the Node edge (STACK_EDGE=node)');
  if (!['s3', 'fs'].includes(storageKind)) throw new Error(`unknown storage "${storageKind}" (s3 or fs)`);
  if (!['node', 'workerd'].includes(edgeRuntime)) throw new Error(`unknown edge runtime "${edgeRuntime}" (node or workerd)`);
  if (!Number.isInteger(workerCount) || workerCount < 1) throw new Error(`WORKERS must be a whole number ≥ 1, not ${options.workers}`);
  const secrets = stackSecrets(dataDir, env);

  const started = [];
  const stack = { dataDir, modelsDir, secrets, apiKey: secrets.devApiKey, workers: [], edge: undefined, storage: undefined };
  // Once everything is up, the supervisors take the services' place in `started` (same order).
  const stopAll = async () => {
    // Reverse order: the edge first (no new work), then the workers drain, then storage.
    while (started.length > 0) await started.pop().stop();
  };
  // Each service joins `started` as soon as it is spawned, so an abort mid-start reaches it.
  const track = (service) => {
    started.push(service);
    if (options.signal?.aborted) void service.stop();
  };
  const onAbort = () => void stopAll();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const seaweed = (ports, onSpawn) => startSeaweed({ repoRoot, dir: join(dataDir, 'seaweedfs'), s3Port: Number(env.STACK_S3_PORT ?? 8333), ports, accessKeyId: secrets.s3AccessKeyId, secretAccessKey: secrets.s3SecretAccessKey, log, onSpawn });
    if (storageKind === 's3') {
      stack.storage = { kind: 's3', ...(await seaweed(options.s3Ports ?? 'fixed', track)) };
    } else {
      const dir = join(dataDir, 'images');
      mkdirSync(dir, { recursive: true });
      stack.storage = { kind: 'fs', dir };
    }
    const worker = (index, port, onSpawn) => startWorker({ repoRoot, index, port, modelsDir, secret: secrets.workerSecret, integrityKey: secrets.storageIntegrityKey, storage: stack.storage, env, log, quiet, onSpawn });
    stack.workers = await Promise.all(Array.from({ length: workerCount }, (_, index) => worker(index, undefined, track)));
    if (options.signal?.aborted) throw new Error('aborted');
    if (edgeRuntime === 'node') buildNodeEdge(repoRoot);
    const vars = edgeVars({ secrets, workerUrls: stack.workers.map((w) => w.url), storage: stack.storage, env, hosts: ['127.0.0.1', 'localhost', options.host ?? '127.0.0.1'] });
    if (edgeRuntime === 'node') vars.MODELS_DIR = modelsDir;
    const startTheEdge = (port, onSpawn = track) => startEdge({ repoRoot, runtime: edgeRuntime, port, host: options.host ?? '127.0.0.1', vars, dataDir, env, log, quiet, onSpawn });
    stack.edge = await startTheEdge(options.port ?? 8787);
    stack.url = stack.edge.url;

    // From here on each service is supervised: restarted in place (same port, same data folder),
    // its new process published on `stack` (storage and workers keep their objects).
    const supervision = { log, ...options.supervision };
    const supervisors = [];
    if (stack.storage.kind === 's3') {
      supervisors.push(supervise({ ...supervision, name: 'storage', first: { ...stack.storage }, start: (onSpawn) => seaweed(stack.storage.ports, onSpawn), onRestarted: (s3) => Object.assign(stack.storage, s3) }));
    }
    stack.workers.forEach((w, index) => {
      supervisors.push(supervise({ ...supervision, name: w.service.name, first: { ...w }, start: (onSpawn) => worker(index, w.port, onSpawn), onRestarted: (next) => Object.assign(w, next) }));
    });
    supervisors.push(supervise({ ...supervision, name: 'edge', first: stack.edge, start: (onSpawn) => startTheEdge(stack.edge.port, onSpawn), onRestarted: (next) => (stack.edge = next) }));
    started.splice(0, started.length, ...supervisors);
    const supervisorOf = (name) => supervisors.find((s) => s.name === name);
    /**
     * Stops storage and starts it again on the same folder and ports, where the edge and the
     * workers already look (fault tests: an outage, then recovery).
     */
    if (supervisorOf('storage')) stack.restartStorage = async () => (await supervisorOf('storage').restart(), stack.storage);
    /** Restarts the edge alone on the same port: its in-process cache starts empty. */
    stack.restartEdge = () => supervisorOf('edge').restart();
    /** Resolves when a service is given up after a crash loop: { name, reason }. */
    stack.crashLoop = Promise.race(supervisors.map((s) => s.gaveUp));
  } catch (error) {
    await stopAll();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  stack.stop = stopAll;
  return stack;
}
