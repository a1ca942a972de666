// `npm run bench:storage`: the client CPU each storage call costs, for each S3 client the parts use
// (nodeS3Store: aws4 + node:http, the worker's and the Node edge's; fetchS3Store: aws4fetch + fetch,
// the workerd edge's), against a real SeaweedFS in its own processes (test/support/s3-server.ts), so
// this process's CPU time (process.cpuUsage, user + system, all its threads) is the client's alone.
// Operations: lookups of missing keys, GETs of stored ~1 KB objects, conditional (write-once) PUTs,
// at a fixed concurrency. Prints a markdown table; bench-stack.mts runs the same measurement against
// the stack's own SeaweedFS. Options: --calls N (per row, default 2000), --concurrency N (default 16).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { ImageObject, ImageStore, S3Location } from '@imf/contract';
import { nodeS3Store } from '@imf/contract/storage/node';
import { fetchS3Store } from '../../functions/src/storage/adapters/s3.js';
import { startS3Server } from '../support/s3-server.js';
import { describeMachine } from './machine.js';

export interface StorageCpuRow {
  client: string;
  operation: 'miss' | 'get' | 'put';
  calls: number;
  /** Client CPU (user + system) per call, in milliseconds: the median of the rounds. */
  cpuMsPerCall: number;
  callsPerSecond: number;
}

export interface StorageCpuOptions extends Omit<S3Location, 'region'> {
  region?: string;
  /** Calls per row and round (default 2000). */
  calls?: number;
  concurrency?: number;
  /** Rounds per row; the row reports the median (default 3). */
  rounds?: number;
  /** The clients to measure, by name (default: the ones the parts use, CLIENTS). */
  clients?: Record<string, (location: S3Location) => Pick<ImageStore, 'get' | 'putIfAbsent'>>;
}

export const CLIENTS: Record<string, (location: S3Location) => ImageStore> = {
  'aws4 + node:http (nodeS3Store)': (location) => nodeS3Store({ ...location, maxAttempts: 1 }),
  'aws4fetch + fetch (fetchS3Store)': (location) => fetchS3Store(location),
};

const image = (): ImageObject => ({ body: new Uint8Array(randomBytes(1024)), contentType: 'image/png', metadata: { model: 'bench', seed: '1', 'imf-integrity': 'ab'.repeat(32) } });
const freshKey = () => `images/bench/cpu/${randomBytes(16).toString('hex')}.png`;

/** Runs `call(i)` for i < calls with `concurrency` in flight; the CPU and wall time it took. */
async function timed(calls: number, concurrency: number, call: (i: number) => Promise<unknown>): Promise<{ cpuMs: number; seconds: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) await call(next++);
    }),
  );
  const spent = process.cpuUsage(cpu);
  return { cpuMs: (spent.user + spent.system) / 1000, seconds: (performance.now() - started) / 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function measureStorageClientCpu(options: StorageCpuOptions): Promise<StorageCpuRow[]> {
  const { calls = 2000, concurrency = 16, rounds = 3, region = 'us-east-1', clients = CLIENTS, ...rest } = options;
  const location: S3Location = { ...rest, region };
  const rows: StorageCpuRow[] = [];
  for (const [client, make] of Object.entries(clients)) {
    const store = make(location);
    // Objects to read back, and a warm-up (connections, JIT) that is not counted.
    const stored = Array.from({ length: Math.min(calls, 500) }, freshKey);
    await timed(stored.length, concurrency, (i) => store.putIfAbsent(stored[i]!, image()));
    await timed(200, concurrency, (i) => store.get(i % 2 ? stored[i]! : freshKey()));
    const operations: Record<StorageCpuRow['operation'], (i: number) => Promise<unknown>> = {
      miss: () => store.get(freshKey()),
      get: (i) => store.get(stored[i % stored.length]!),
      put: () => store.putIfAbsent(freshKey(), image()),
    };
    for (const [operation, call] of Object.entries(operations) as [StorageCpuRow['operation'], (i: number) => Promise<unknown>][]) {
      const results = [];
      for (let round = 0; round < rounds; round++) results.push(await timed(calls, concurrency, call));
      rows.push({
        client,
        operation,
        calls,
        cpuMsPerCall: median(results.map((r) => r.cpuMs / calls)),
        callsPerSecond: median(results.map((r) => calls / r.seconds)),
      });
    }
  }
  return rows;
}

/** The rows as a markdown table. */
export function storageCpuTable(rows: StorageCpuRow[]): string {
  return [
    '| client | operation | calls | CPU ms / call | calls/s |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.client} | ${r.operation} | ${r.calls} | ${r.cpuMsPerCall.toFixed(3)} | ${Math.round(r.callsPerSecond)} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { calls: { type: 'string' }, concurrency: { type: 'string' } } });
  const calls = Number(values.calls ?? 2000);
  const concurrency = Number(values.concurrency ?? 16);
  const server = await startS3Server({ bucket: 'bench' });
  try {
    const rows = await measureStorageClientCpu({ ...server, calls, concurrency });
    console.log(`Storage client CPU per call, SeaweedFS on loopback, concurrency ${concurrency}, median of 3 rounds`);
    console.log(`machine: ${describeMachine()}\n`);
    console.log(storageCpuTable(rows));
  } finally {
    await server.stop();
  }
}

// Run as a script (the package is CommonJS to tsx: no top-level await, no import.meta); imported, it only exports.
if (process.argv[1]?.endsWith('storage-client-cpu.ts')) void main();
