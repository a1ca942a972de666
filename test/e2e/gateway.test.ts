// The pool gateway (infra/gateway): real HAProxy, configured by gatewayConfig, in front of real GPU
// workers. It hashes each generate call on its image key: one key goes to one worker, call after
// call (so many edges' misses meet in one worker's single-flight); a dead worker's keys go to the
// others at once; and a worker that joins takes only its own share of keys, moving none between
// the others. HAProxy comes from Debian (scripts/setup.sh).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IMAGE_KEY_HEADER, imageKey, WORKER_GENERATE_PATH, WORKER_SECRET_HEADER, type WorkerImageRequest } from '@imf/contract';
// @ts-expect-error plain ESM without types
import { gatewayConfig, GATEWAY_HASH_HEADER } from '../../infra/gateway/haproxy.mjs';
// @ts-expect-error plain ESM without types
import { freePort } from '../../infra/local/processes.mjs';
// @ts-expect-error plain ESM without types
import { startWorker } from '../../infra/local/workers.mjs';
import { requestsFor, shippedModel } from './support/stack.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const { manifest } = shippedModel();
const SECRET = `gateway-test-${crypto.randomUUID()}`;
const KEYS = 48;

interface Worker {
  url: string;
  port: number;
  service: { child: ChildProcess; stop(): Promise<void> };
}

let dir: string;
let workers: Worker[] = [];
const gateways: ChildProcess[] = [];

function haproxyBinary(): string {
  for (const candidate of ['/usr/sbin/haproxy', '/usr/bin/haproxy']) if (existsSync(candidate)) return candidate;
  const found = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('HAProxy is not installed: run `npm run setup` (scripts/setup.sh installs Debian’s haproxy)');
  return found;
}

/** Starts HAProxy with gatewayConfig over `names` (of workers[i] as w<i>); resolves with its URL once every server is up. */
async function startGateway(indexes: number[]): Promise<string> {
  const port = await freePort();
  const config = gatewayConfig({ bind: `127.0.0.1:${port}`, workers: { servers: indexes.map((i) => ({ name: `w${i}`, address: `127.0.0.1:${workers[i]!.port}` })) }, checkIntervalMs: 200 });
  const file = join(dir, `haproxy-${port}.cfg`);
  writeFileSync(file, config);
  const check = spawnSync(haproxyBinary(), ['-c', '-q', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c refused the configuration: ${check.stderr}`);
  const child = spawn(haproxyBinary(), ['-db', '-f', file], { stdio: 'ignore' });
  gateways.push(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    // Up once every worker of the list has answered a call through it.
    const seen = new Set((await route(url, Array.from({ length: 12 }, (_, i) => request({ seed: 1_000_000 + i })))).map((r) => r.worker));
    if (seen.size === indexes.length) return url;
    if (Date.now() > deadline) {
      const last = await route(url, [request()]);
      throw new Error(`the gateway on ${port} did not reach every worker (saw ${[...seen].join(', ')}; a call: ${JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const request = requestsFor(manifest, 20_000_000, 3);
const keys: WorkerImageRequest[] = Array.from({ length: KEYS }, (_, i) => ({ request: request({ class: i % 10 }), modelVersion: manifest.version }));

/** One generate call per body through `gateway`: the status and the worker that answered. */
async function route(gateway: string, requests: ReturnType<typeof request>[] | WorkerImageRequest[]): Promise<{ status: number; worker: string }[]> {
  return Promise.all(
    requests.map(async (given) => {
      const body: WorkerImageRequest = 'request' in given ? given : { request: given, modelVersion: manifest.version };
      try {
        const response = await fetch(gateway + WORKER_GENERATE_PATH, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: SECRET, [GATEWAY_HASH_HEADER]: await imageKey(body.request, body.modelVersion) },
          body: JSON.stringify(body),
        });
        await response.arrayBuffer();
        return { status: response.status, worker: response.headers.get('x-imf-gateway-worker') ?? '' };
      } catch {
        return { status: 0, worker: '' };
      }
    }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imf-gateway-'));
  const storage = { kind: 'fs', dir: join(dir, 'images') };
  workers = await Promise.all([0, 1, 2].map((index) => startWorker({ repoRoot, index, secret: SECRET, storage, quiet: true, env: { ...process.env, WORKER_LOG_LEVEL: 'error' } })));
});

afterAll(async () => {
  for (const gateway of gateways) gateway.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.service.stop().catch(() => {})));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('the edge sends the header the gateway hashes on', () => {
  expect(GATEWAY_HASH_HEADER).toBe(IMAGE_KEY_HEADER);
});

it("runs the same configuration on Kubernetes: the ConfigMap's haproxy.cfg is gatewayConfig over the headless Service, and HAProxy accepts it", () => {
  const manifest = readFileSync(join(repoRoot, 'infra', 'k8s', 'gateway.yaml'), 'utf8').split('\n');
  const start = manifest.indexOf('  haproxy.cfg: |') + 1;
  const end = manifest.indexOf('---', start);
  const shipped = `${manifest
    .slice(start, end)
    .map((line) => line.slice(4))
    .join('\n')
    .trimEnd()}\n`;
  expect(shipped).toBe(gatewayConfig({ workers: { dns: { name: 'imf-gpu-worker.imf.svc.cluster.local', port: 8080, count: 64 } } }));
  const file = join(dir, 'k8s-haproxy.cfg');
  writeFileSync(file, shipped);
  const check = spawnSync(haproxyBinary(), ['-c', '-q', '-f', file], { encoding: 'utf8' });
  expect(check.status, check.stderr).toBe(0);
});

it('sends each image key to one worker, moves only a joining worker’s share, and routes a dead worker’s keys to the others', { timeout: 120_000 }, async () => {
  const two = await startGateway([0, 1]);
  const first = await route(two, keys);
  const again = await route(two, keys);
  expect(first.every((r) => r.status === 200)).toBe(true);
  // Affinity: the same worker for a key, call after call; both workers have keys.
  expect(again.map((r) => r.worker)).toEqual(first.map((r) => r.worker));
  const onW1 = first.filter((r) => r.worker === 'w1').length;
  expect(onW1).toBeGreaterThan(KEYS * 0.2);
  expect(onW1).toBeLessThan(KEYS * 0.8);

  // A third worker joins (a gateway over w0, w1, w2): keys move only to it, about a third of them.
  const three = await startGateway([0, 1, 2]);
  const after = await route(three, keys);
  expect(after.every((r) => r.status === 200)).toBe(true);
  const moved = after.filter((r, i) => r.worker !== first[i]!.worker);
  expect(moved.every((r) => r.worker === 'w2'), 'keys moved only to the new worker').toBe(true);
  expect(moved.length).toBeGreaterThan(KEYS * 0.1);
  expect(moved.length).toBeLessThan(KEYS * 0.6);

  // w1 dies: its keys are answered by w0 at once (HAProxy redispatches a refused connection), and
  // w0's keys stay where they were.
  workers[1]!.service.child.kill('SIGKILL');
  const failover = await route(two, keys);
  expect(failover.map((r) => r.status)).toEqual(keys.map(() => 200));
  expect(failover.every((r) => r.worker === 'w0')).toBe(true);

  console.log(
    `\n| keys | on w1 of 2 | moved when w2 joined | moved to w2 | answered after w1 died |\n| ---: | ---: | ---: | ---: | ---: |\n` +
      `| ${KEYS} | ${onW1} | ${moved.length} | ${moved.filter((r) => r.worker === 'w2').length} | ${failover.filter((r) => r.status === 200).length}/${KEYS} |`,
  );
});
