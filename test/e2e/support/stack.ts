// The stack for end-to-end tests (and bench:stack): infra/local's launcher with real SeaweedFS on free ports (or files), a
// throw-away data folder, the edge on Node, rate limits out of the way; plus HTTP helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultQuality, defaultSize, type ImageRequest, type ModelManifest } from '@imf/contract';
// @ts-expect-error plain ESM without types
import { startStack } from '../../../infra/local/start-stack.mjs';

/** A child process of the stack, as infra/local/processes.mjs keeps it. */
export interface StackService {
  name: string;
  exited: boolean;
  child: { pid?: number; kill(signal: string): void };
}

export interface TestStack {
  /** The stack's data folder (secrets, SeaweedFS's data and certificates). */
  dataDir: string;
  // each worker also carries its child process as service.child (fault tests kill one)
  url: string;
  apiKey: string;
  workers: { url: string }[];
  storage: {
    kind: string;
    endpoint?: string;
    bucket?: string;
    region?: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    service?: StackService;
    /** SeaweedFS's own ports (master, volume, filer, S3 and their gRPC ports). */
    ports?: { master: number; masterGrpc: number; volume: number; volumeGrpc: number; filer: number; filerGrpc: number; s3: number };
    /** The keys SeaweedFS checks its own HTTP paths with (the security tests write around the workers with them). */
    jwt?: { volumeWrite: string; volumeRead: string; filerWrite: string; filerRead: string };
    /** The gRPC certificate authority and certificate SeaweedFS's components (and its operator) present. */
    certificates?: { ca: string; cert: string; key: string };
  };
  restartEdge(): Promise<unknown>;
  /** Starts storage again on its folder and ports (after a fault test stopped or killed it). */
  restartStorage(): Promise<unknown>;
  /** The stack's live child processes (the edge's changes on restartEdge): load tests read their RSS. */
  processes(): { name: string; pid: number }[];
  stop(): Promise<void>;
}

/**
 * options.env: extra settings for every process of the stack (e.g. the workers' MAX_QUEUE);
 * options.modelsDir: the model folders to serve instead of models/; options.storage: 's3'
 * (SeaweedFS, the default) or 'fs' (the workers' folder of files, which the edge reads too).
 */
export async function startTestStack(options: { workers?: number; env?: Record<string, string>; modelsDir?: string; storage?: 's3' | 'fs' } = {}): Promise<TestStack & { cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'imf-e2e-'));
  const stack = (await startStack({
    storage: options.storage ?? 's3',
    s3Ports: 'free',
    workers: options.workers ?? 1,
    edge: 'node',
    port: 0,
    dataDir,
    ...(options.modelsDir ? { modelsDir: options.modelsDir } : {}),
    quiet: true,
    env: { ...process.env, DEV_API_KEY: '', RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_BURST: '10000', LOG_REQUESTS: 'false', ...options.env },
  })) as TestStack & { edge: { service: StackService }; workers: { service: StackService }[] };
  return {
    ...stack,
    get url() {
      return stack.url;
    },
    restartEdge: () => stack.restartEdge(),
    processes: () =>
      [stack.edge.service, ...stack.workers.map((w) => w.service), ...(stack.storage.service ? [stack.storage.service] : [])]
        .filter((service) => !service.exited && service.child.pid !== undefined)
        .map((service) => ({ name: service.name, pid: service.child.pid! })),
    cleanup: async () => {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { shippedModel, type ReferenceRequest } from '../../support/reference.js';

/** Images the workers ran through a model's graph so far: the batch-size histogram's _sum, over all workers. */
export async function inferredImages(workers: { url: string }[]): Promise<number> {
  let total = 0;
  for (const worker of workers) {
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('imf_worker_batch_size_sum')) total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}

/**
 * Canonical requests for a model with its defaults and a seed of their own: seeds count up from a
 * random start at or above `firstSeed`, so suites that share a stack's storage never collide.
 */
export function requestsFor(manifest: ModelManifest, firstSeed: number, defaultClass = 1): (overrides?: Partial<ImageRequest>) => ImageRequest {
  let nextSeed = firstSeed + Math.floor(Math.random() * 1_000_000);
  return (overrides = {}) => ({
    model: manifest.id,
    class: defaultClass,
    guidance: manifest.guidance.default,
    tmin: manifest.interval.default[0],
    tmax: manifest.interval.default[1],
    seed: nextSeed++,
    format: 'png',
    size: defaultSize(manifest),
    ...defaultQuality(overrides.format ?? 'png'),
    ...overrides,
  });
}
