// `npm run bench:stack`: the default stack as `npm start` runs it (SeaweedFS, one worker, the Node
// edge, the shipped default model), measured from outside in one run and printed as tables:
//   - raw onnxruntime-node at batch 16 on the same model, threads and machine (the ceiling);
//   - cache misses (fresh seeds, canonical URLs, an API key) at concurrency 64: images/s, share of
//     raw, p50/p99, and the storage calls each miss cost the worker (its /metrics);
//   - storage-tier hits (after an edge restart empties its cache), edge-cache hits, and a bare
//     route (/healthz) for the edge's own ceiling;
//   - the storage client's CPU per call against the stack's SeaweedFS.
// Options: --seconds N (each load phase, default 20), --concurrency N (default 64), --quick.
// --model DIR: the host-ceiling benchmark instead (host-ceiling/run.ts): the stack serving that
// model folder alone, per format and size against the encoder alone on the same pixels;
// --model host-ceiling builds the bench-only folder for it (host-ceiling/build_model.py); --sizes 256,512
// measures those sizes only (default 256, 512 and 1024).
import '../../gpu-worker/src/encode/thread-pool-size.js';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { canonicalPath, defaultSize, type ImageRequest } from '@imf/contract';
import { measureRawInference } from '../../gpu-worker/bench/raw-inference.js';
import { shippedModel, startTestStack } from '../e2e/support/stack.js';
import { runHostCeiling } from './host-ceiling/run.js';
import { describeMachine } from './machine.js';
import { cannon, cpuMeters, others, settle, workerStorageCalls } from './stack-phases.js';
import { measureStorageClientCpu, storageCpuTable } from './storage-client-cpu.js';
import { printTable } from './table.js';

const { values: flags } = parseArgs({
  options: { seconds: { type: 'string' }, concurrency: { type: 'string' }, quick: { type: 'boolean' }, model: { type: 'string' }, sizes: { type: 'string' } },
});
const SECONDS = Number(flags.seconds ?? (flags.quick ? 4 : 20));
const CONCURRENCY = Number(flags.concurrency ?? 64);
const THREADS = Number(process.env.INTRA_OP_THREADS ?? 1);
const BATCH = 16;

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`);

if (flags.model !== undefined) {
  const sizes = flags.sizes?.split(',').map(Number);
  await runHostCeiling(flags.model, { seconds: Number(flags.seconds ?? (flags.quick ? 4 : 10)), concurrency: CONCURRENCY, quick: flags.quick ?? false, ...(sizes ? { sizes } : {}) });
  process.exit(0);
}

// ---------------------------------------------------------------- the stack
// Rate limits far above what the phases send: a 429 would measure the limiter, not the stack.
const stack = await startTestStack({ env: { RATE_LIMIT_PER_MINUTE: '10000000', RATE_LIMIT_BURST: '1000000' } });
try {
  const { manifest } = shippedModel('imf-mnist');
  const seedBase = Math.floor(Math.random() * 1_000_000_000);
  const request = (seed: number): ImageRequest => ({
    model: manifest.id,
    class: seed % manifest.classes.length,
    guidance: manifest.guidance.default,
    tmin: manifest.interval.default[0],
    tmax: manifest.interval.default[1],
    seed: seedBase + seed,
    format: 'png',
    size: defaultSize(manifest),
  });
  const pathOf = (i: number) => canonicalPath(request(i));

  console.log(`# stack benchmark${flags.quick ? ' (--quick: short phases, rough numbers)' : ''}`);
  console.log(`machine: ${describeMachine()}`);
  console.log(`stack: SeaweedFS, 1 worker (${THREADS} intra-op thread), Node edge; model ${manifest.id} ${manifest.version}; ${SECONDS} s per phase, concurrency ${CONCURRENCY}`);

  const [raw] = await measureRawInference(join(import.meta.dirname, '..', '..', 'models', manifest.id, manifest.graph), manifest, { batches: [BATCH], seconds: Math.max(3, SECONDS / 2), intraOpThreads: THREADS });

  // Warm-up: the worker's JIT, the edge's connections, SeaweedFS's first volume.
  let next = (await cannon(stack.url, stack.apiKey, pathOf, Math.max(2, Math.round(SECONDS / 5)), CONCURRENCY)).next;
  await settle();
  const meters = cpuMeters(stack);
  const callsBefore = await workerStorageCalls(stack.workers[0]!.url);
  const cpuBefore = meters.map((m) => m.seconds());
  const missFirst = next;
  const misses = await cannon(stack.url, stack.apiKey, pathOf, SECONDS, CONCURRENCY, next);
  const cpuAfter = meters.map((m) => m.seconds());
  const callsAfter = await workerStorageCalls(stack.workers[0]!.url);
  next = misses.next;
  const workerCalls = Object.fromEntries(Object.entries(callsAfter).map(([op, n]) => [op, n - (callsBefore[op] ?? 0)]));
  const workerCallsPerMiss = Object.values(workerCalls).reduce((a, b) => a + b, 0) / Math.max(1, misses.ok);

  // Storage hits: the images just generated, after an edge restart has emptied its cache.
  const generated = Array.from({ length: Math.min(misses.ok, 5000) }, (_, i) => pathOf(missFirst + i));
  await settle();
  await stack.restartEdge();
  let cursor = 0;
  const storageHits = await cannon(stack.url, stack.apiKey, () => generated[cursor++ % generated.length]!, SECONDS, CONCURRENCY, 0, generated.length);
  await settle();
  const cacheHits = await cannon(stack.url, stack.apiKey, (i) => generated[i % Math.min(256, generated.length)]!, SECONDS, CONCURRENCY);
  await settle();
  const bare = await cannon(stack.url, stack.apiKey, () => '/healthz', SECONDS, CONCURRENCY);

  printTable(
    `Throughput and latency at concurrency ${CONCURRENCY} (${describeMachine()})`,
    ['what', 'answers/s', 'vs raw batch-16', 'p50', 'p99', 'other answers'],
    [
      [`raw onnxruntime-node, batch ${BATCH}`, Math.round(raw!.imagesPerSecond), '100%', '', '', ''],
      ['cache misses (generated, stored)', Math.round(misses.perSecond), `${Math.round((100 * misses.perSecond) / raw!.imagesPerSecond)}%`, ms(misses.p50), ms(misses.p99), others(misses.other)],
      ['storage hits (edge cache empty)', Math.round(storageHits.perSecond), '', ms(storageHits.p50), ms(storageHits.p99), others(storageHits.other)],
      ['edge-cache hits', Math.round(cacheHits.perSecond), '', ms(cacheHits.p50), ms(cacheHits.p99), others(cacheHits.other)],
      ['bare route (/healthz)', Math.round(bare.perSecond), '', ms(bare.p50), ms(bare.p99), others(bare.other)],
    ],
  );
  // The edge's own lookup (one per miss) is counted in test/e2e/storage-calls.test.ts; the
  // worker's calls are what its metrics saw during the miss phase.
  printTable(
    "The worker's storage calls per miss (besides the edge's one lookup)",
    ['misses', 'calls per miss', 'by operation'],
    [[misses.ok, workerCallsPerMiss.toFixed(2), Object.entries(workerCalls).map(([op, n]) => `${op} ${(n / Math.max(1, misses.ok)).toFixed(2)}`).join(', ') || '–']],
  );

  const cpuRows = meters.map((m, i) => [m.name, ((1000 * (cpuAfter[i]! - cpuBefore[i]!)) / Math.max(1, misses.ok)).toFixed(2), `${Math.round((100 * (cpuAfter[i]! - cpuBefore[i]!)) / SECONDS)}%`]);
  const total = cpuAfter.reduce((a, b) => a + b, 0) - cpuBefore.reduce((a, b) => a + b, 0);
  cpuRows.push(['all', ((1000 * total) / Math.max(1, misses.ok)).toFixed(2), `${Math.round((100 * total) / SECONDS)}%`]);
  printTable('Where the CPU went during the miss phase (/proc; 100% = one core)', ['process', 'CPU ms per miss', 'CPU use'], cpuRows);

  const storage = stack.storage as { endpoint: string; bucket: string; region?: string; accessKeyId: string; secretAccessKey: string };
  const clientRows = await measureStorageClientCpu({ ...storage, region: storage.region ?? 'us-east-1', calls: flags.quick ? 400 : 2000, concurrency: 16 });
  console.log("\nStorage client CPU per call against the stack's SeaweedFS (concurrency 16)\n");
  console.log(storageCpuTable(clientRows));
} finally {
  await stack.cleanup();
}
