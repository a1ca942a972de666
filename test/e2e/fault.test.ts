// A fault under load: one of two GPU workers is killed (SIGKILL) while cache misses stream in.
// The edge's retries and circuit breakers must keep failures under 1% and keep serving without a
// restart. Prints a one-row table of what happened.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalPath, defaultSize } from '@imf/contract';
import { shippedModel, startTestStack, type TestStack } from './support/stack.js';

const { manifest } = shippedModel();
const REQUESTS = 240;
const CONCURRENCY = 8;
const KILL_AFTER = 60;

let stack: TestStack & { cleanup(): Promise<void>; workers: { url: string; service: { exited: boolean; child: { kill(signal: string): void } } }[] };

beforeAll(async () => {
  stack = (await startTestStack({ workers: 2 })) as typeof stack;
});
afterAll(async () => {
  await stack?.cleanup();
});

it('keeps failures under 1% when one of two workers dies under load, and keeps serving', async () => {
  const seed0 = 3_000_000 + Math.floor(Math.random() * 1_000_000);
  const statuses: number[] = [];
  let next = 0;
  const started = Date.now();
  const client = async () => {
    while (next < REQUESTS) {
      const i = next++;
      if (i === KILL_AFTER) stack.workers[1]!.service.child.kill('SIGKILL');
      const path = canonicalPath({ model: manifest.id, class: i % 10, guidance: manifest.guidance.default, tmin: manifest.interval.default[0], tmax: manifest.interval.default[1], seed: seed0 + i, format: 'png', size: defaultSize(manifest) });
      try {
        const response = await fetch(new URL(path, stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` } });
        await response.arrayBuffer();
        statuses.push(response.status);
      } catch {
        statuses.push(0);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const seconds = (Date.now() - started) / 1000;
  const failed = statuses.filter((s) => s !== 200).length;
  const afterKill = statuses.slice(KILL_AFTER + CONCURRENCY);
  console.log(
    `\n| requests | concurrency | killed after | failed | failed % | req/s |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n` +
      `| ${REQUESTS} | ${CONCURRENCY} | ${KILL_AFTER} | ${failed} | ${((100 * failed) / REQUESTS).toFixed(2)} | ${(REQUESTS / seconds).toFixed(0)} |`,
  );
  expect(stack.workers[1]!.service.exited, 'the second worker was killed').toBe(true);
  expect(statuses.length).toBe(REQUESTS);
  expect(failed / REQUESTS).toBeLessThan(0.01);
  // Recovery without a restart: the last requests, all after the kill, succeed.
  expect(afterKill.slice(-20).every((s) => s === 200)).toBe(true);
});
