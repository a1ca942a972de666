// Edge benchmark: requests/s and latency of a cached image against a bare Hono route in the same
// runtime, on Node (@hono/node-server) and on workerd's own port (Miniflare, no wrangler proxy).
// The load generator (autocannon) runs as a separate process. Target: cached ≥ 50% of bare.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { canonicalPath, parseSigningKeys, signPath, type ImageRequest } from '@imf/contract';
import { hashApiKey } from '../src/auth/index.js';
import { registry } from '../src/models/registry.js';
import { startNodeEdge } from '../src/runtime/node.js';
import { startFakeWorker } from '../test/support/fake-worker.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const runtimes = (process.env.BENCH_RUNTIMES ?? 'node,workerd').split(',');

const API_KEY = 'imf_bench_key_0123456789abcdef';
const SIGNING_KEYS = 'b1:bench-signing-secret-0123456789abcdef';
const WORKER_SECRET = 'bench-worker-secret';

interface Result {
  runtime: string;
  target: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Server CPU per request (user + system), the measure that load elsewhere on the machine skews least. */
  cpuUs: number;
}

const TICK_US = 1e6 / 100; // /proc reports CPU time in clock ticks (USER_HZ, 100 on Linux)

/** CPU time (µs) used so far by the server: this process for Node, the workerd processes for workerd. */
function serverCpuUs(runtime: string): number {
  if (runtime === 'node') {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  }
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(workerd)')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid && !isDescendant(Number(fields[1]))) continue;
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

function isDescendant(pid: number): boolean {
  for (let hops = 0; pid > 1 && hops < 8; hops++) {
    if (pid === process.pid) return true;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

async function measure(runtime: string, target: string, url: string, headers: Record<string, string> = {}): Promise<Result> {
  await load(url, headers, warmup);
  const before = serverCpuUs(runtime);
  const r = await load(url, headers, duration);
  const cpu = serverCpuUs(runtime) - before;
  return { runtime, target, ...r, cpuUs: cpu / Math.max(1, r.total) };
}

const warmup = Number(process.env.BENCH_WARMUP ?? Math.max(1, Math.round(duration / 3)));

/** autocannon in its own process for `seconds`. */
function load(url: string, headers: Record<string, string>, seconds: number): Promise<{ rps: number; p50: number; p99: number; non2xx: number; total: number }> {
  const args = ['-c', String(connections), '-d', String(seconds), '-j', '--renderStatusCodes', url];
  for (const [k, v] of Object.entries(headers)) args.unshift('-H', `${k}=${v}`);
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'autocannon'), args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}`));
      const r = JSON.parse(out);
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors, total: r.requests.total });
    });
  });
}

async function warm(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (i > 0 && response.headers.get('x-image-tier') !== 'edge-cache') throw new Error(`not served from the edge cache: ${response.status} ${response.headers.get('x-image-tier')}`);
  }
}

async function main() {
  const model = Object.values(registry)[0]!;
  const req: ImageRequest = { model: model.id, class: 3, guidance: model.guidance.default, tmin: model.interval.default[0], tmax: model.interval.default[1], seed: 42, format: 'png', size: model.image.width * 4 };
  const path = canonicalPath(req);
  const signed = await signPath(path, parseSigningKeys(SIGNING_KEYS), Math.floor(Date.now() / 1000) + 3600, 'k.bench');
  const auth = { authorization: `Bearer ${API_KEY}` };
  const worker = await startFakeWorker({ mode: 'ok', secret: WORKER_SECRET });
  const env = {
    SIGNING_KEYS,
    WORKER_SECRET,
    WORKER_URLS: worker.url,
    API_KEY_HASHES: await hashApiKey(API_KEY),
    RATE_LIMIT_PER_MINUTE: '100000000',
    RATE_LIMIT_BURST: '100000000',
    LOG_REQUESTS: 'false',
  };
  const results: Result[] = [];

  if (runtimes.includes('node')) {
    const edge = await startNodeEdge({ env, port: 0 });
    const bareApp = new Hono().get('/bare', (c) => c.text('ok'));
    const bare = await new Promise<{ url: string; close: () => void }>((resolve) => {
      const server = serve({ fetch: bareApp.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ url: `http://127.0.0.1:${info.port}`, close: () => server.close() }));
    });
    await warm(edge.url + path, auth);
    results.push(await measure('node', 'bare Hono route', `${bare.url}/bare`));
    results.push(await measure('node', 'cached image (signed URL)', edge.url + signed));
    results.push(await measure('node', 'cached image (API key)', edge.url + path, auth));
    bare.close();
    await edge.close();
  }

  if (runtimes.includes('workerd')) {
    const { Miniflare } = await import('miniflare');
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(root, '.cache', 'bench', 'worker.mjs'),
      compatibilityDate: '2026-04-26',
      bindings: env,
      durableObjects: { RATE_LIMITER: 'RateLimiterObject' },
      cache: true,
      host: '127.0.0.1',
      port: 0,
    });
    const url = (await mf.ready).origin;
    await warm(url + path, auth);
    results.push(await measure('workerd', 'bare Hono route', `${url}/bare`));
    results.push(await measure('workerd', 'cached image (API key, DO limiter)', url + path, auth));
    results.push(await measure('workerd', 'cached image (signed URL)', url + signed));
    await mf.dispose();
  }
  await worker.close();

  const cpu = cpus();
  console.log(`\nedge benchmark — ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`);
  console.log(`autocannon: ${connections} connections, ${duration} s per row after ${warmup} s warm-up, image ${req.size}px png\n`);
  console.log('| runtime | target | req/s | p50 ms | p99 ms | non-2xx | vs bare | server CPU µs/req | vs bare (CPU) |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const bare = results.find((b) => b.runtime === r.runtime && b.target === 'bare Hono route') ?? r;
    console.log(
      `| ${r.runtime} | ${r.target} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${((100 * r.rps) / bare.rps).toFixed(0)}% | ` +
        `${Math.round(r.cpuUs)} | ${((100 * bare.cpuUs) / r.cpuUs).toFixed(0)}% |`,
    );
  }
  console.log('\nvs bare (CPU): requests per server CPU-second relative to the bare route; it is what req/s would be');
  console.log('relative to bare on an otherwise idle machine, and is little affected by other load.');
}

await main();
