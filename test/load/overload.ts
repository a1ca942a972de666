// The overload scenario: measure the stack's capacity for cache misses, then offer `factor` times
// that rate in an open loop for `seconds`, and report what came back — status counts, Retry-After
// on every 503, latency quantiles — and how the processes' resident memory moved meanwhile.
// test/e2e/overload.test.ts runs it (briefly by default; `npm run load:overload` for 60 s).
import { canonicalPath, defaultSize, type ModelManifest } from '@imf/contract';
import { describeMachine, rssBytes } from './machine.js';
import { measureCapacity, openLoop, quantile, type Sample, type Target } from './open-loop.js';

/** The answers an overloaded API may give: images, not-modified, rate limited, come back later. */
export const ALLOWED_STATUSES = [200, 304, 429, 503];

export interface OverloadOptions {
  seconds: number;
  factor: number;
  capacitySeconds: number;
  capacityConcurrency: number;
}

export interface StackUnderLoad {
  url: string;
  apiKey: string;
  processes(): { name: string; pid: number }[];
}

export interface OverloadReport {
  capacity: number;
  rate: number;
  samples: Sample[];
  counts: Record<string, number>;
  /** 503s without a Retry-After header, or whose body is not a problem+json. */
  bare503: number;
  outside: number;
  memory: { name: string; start?: number; end?: number }[];
  table: string;
}

const MiB = 2 ** 20;
const mib = (bytes: number | undefined) => (bytes === undefined ? '–' : (bytes / MiB).toFixed(0));

export async function runOverload(stack: StackUnderLoad, model: ModelManifest, options: OverloadOptions): Promise<OverloadReport> {
  const machine = describeMachine();
  // Seeds from a random base: a rerun on a kept data folder must not hit stored images.
  const seed0 = Math.floor(Math.random() * 2 ** 31);
  const target: Target = {
    url: stack.url,
    apiKey: stack.apiKey,
    path: (i) =>
      canonicalPath({ model: model.id, class: i % model.classes.length, guidance: model.guidance.default, tmin: model.interval.default[0], tmax: model.interval.default[1], seed: (seed0 + i) % 2 ** 32, format: 'png', size: defaultSize(model) }),
  };

  // A second of warm-up (JIT, first batches), then the measured closed loop.
  const warm = await measureCapacity(target, { seconds: 1, concurrency: options.capacityConcurrency });
  const measured = await measureCapacity(target, { seconds: options.capacitySeconds, concurrency: options.capacityConcurrency, first: warm.next });
  const capacity = measured.imagesPerSecond;
  const rate = Math.max(1, options.factor * capacity);

  const processes = stack.processes();
  const start = new Map(processes.map((p) => [p.pid, rssBytes(p.pid)]));
  const started = performance.now();
  const { samples } = await openLoop(target, { rate, seconds: options.seconds, first: measured.next });
  const elapsed = (performance.now() - started) / 1000;
  const memory = processes.map((p) => ({ name: p.name, start: start.get(p.pid), end: rssBytes(p.pid) }));

  const counts: Record<string, number> = {};
  for (const s of samples) counts[s.status] = (counts[s.status] ?? 0) + 1;
  const outside = samples.filter((s) => !ALLOWED_STATUSES.includes(s.status)).length;
  const bare503 = samples.filter((s) => s.status === 503 && (!s.retryAfter || s.contentType !== 'application/problem+json')).length;
  const ok = samples.filter((s) => s.status === 200);
  const count = (status: number) => counts[status] ?? 0;
  const ms = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(0));

  const table = [
    `overload — ${machine}`,
    `capacity ${capacity.toFixed(1)} images/s (cache misses, closed loop, ${options.capacityConcurrency} clients, ${options.capacitySeconds} s); offered ${options.factor}× = ${rate.toFixed(1)} req/s for ${options.seconds} s, open loop`,
    '',
    '| offered req/s | sent | 200 | 304 | 429 | 503 | other | 503 with Retry-After | 200/s | p50 ms | p99 ms | p99 ms (200s) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${rate.toFixed(1)} | ${samples.length} | ${count(200)} | ${count(304)} | ${count(429)} | ${count(503)} | ${outside} | ${count(503) - bare503}/${count(503)} | ${(ok.length / elapsed).toFixed(1)} | ${ms(quantile(samples.map((s) => s.ms), 0.5))} | ${ms(quantile(samples.map((s) => s.ms), 0.99))} | ${ms(quantile(ok.map((s) => s.ms), 0.99))} |`,
    '',
    '| process | RSS before MiB | RSS after MiB | drift MiB |',
    '| --- | ---: | ---: | ---: |',
    ...memory.map((m) => `| ${m.name} | ${mib(m.start)} | ${mib(m.end)} | ${m.start === undefined || m.end === undefined ? '–' : ((m.end - m.start) / MiB >= 0 ? '+' : '') + ((m.end - m.start) / MiB).toFixed(0)} |`),
  ].join('\n');
  return { capacity, rate, samples, counts, bare503, outside, memory, table };
}
