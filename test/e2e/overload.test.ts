// Overload: twice the measured capacity of cache misses, offered in an open loop, must be met with
// images or clear refusals (200/304/429/503, every 503 a problem with Retry-After), never errors.
// Short here (LOAD_SECONDS, default 6 s); `npm run load:overload` runs it for 60 s. Prints a table.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ALLOWED_STATUSES, runOverload } from '../load/overload.js';
import { shippedModel, startTestStack, type TestStack } from './support/stack.js';

const seconds = Number(process.env.LOAD_SECONDS ?? 6);
const options = {
  seconds,
  factor: Number(process.env.LOAD_FACTOR ?? 2),
  capacitySeconds: Number(process.env.CAPACITY_SECONDS ?? 3),
  capacityConcurrency: Number(process.env.CAPACITY_CONCURRENCY ?? 16),
};
const { manifest } = shippedModel();

let stack: TestStack & { cleanup(): Promise<void> };

beforeAll(async () => {
  stack = await startTestStack({ workers: Number(process.env.LOAD_WORKERS ?? 1) });
});
afterAll(async () => {
  await stack?.cleanup();
});

it(`answers ${options.factor}× its capacity with images or 503s carrying Retry-After, nothing else`, { timeout: (seconds + options.capacitySeconds + 60) * 1000 }, async () => {
  const report = await runOverload(stack, manifest, options);
  console.log(`\n${report.table}\n`);
  const outside = Object.entries(report.counts).filter(([status]) => !ALLOWED_STATUSES.includes(Number(status)));
  expect(outside, 'statuses outside 200/304/429/503 (0: no answer)').toEqual([]);
  expect(report.bare503, '503s without Retry-After or problem+json').toBe(0);
  expect(report.counts[200] ?? 0, 'images served while overloaded').toBeGreaterThan(0);
});
