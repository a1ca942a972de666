// A fault under load: one of two GPU workers is killed (SIGKILL) while cache misses stream in.
// The edge's retries and circuit breakers route around it, so every answer is an image or a 503
// problem with Retry-After (and failures stay under 1%); the stack's supervisor starts the worker
// again on its port, and the restarted worker serves again. Prints a one-row table of what happened.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalPath, defaultSize } from '@imf/contract';
import { inferredImages, shippedModel, startTestStack, type StackService, type TestStack } from './support/stack.js';

const { manifest } = shippedModel();
const REQUESTS = 240;
const CONCURRENCY = 8;
const KILL_AFTER = 60;

let stack: TestStack & { cleanup(): Promise<void>; workers: { url: string; service: StackService }[] };

beforeAll(async () => {
  stack = (await startTestStack({ workers: 2 })) as typeof stack;
});
afterAll(async () => {
  await stack?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seed0 = 3_000_000 + Math.floor(Math.random() * 1_000_000);
const path = (i: number) =>
  canonicalPath({ model: manifest.id, class: i % 10, guidance: manifest.guidance.default, tmin: manifest.interval.default[0], tmax: manifest.interval.default[1], seed: seed0 + i, format: 'png', size: defaultSize(manifest) });

interface Answer {
  status: number;
  retryAfter: string | null;
  contentType: string | null;
}

async function get(i: number): Promise<Answer> {
  try {
    const response = await fetch(new URL(path(i), stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` } });
    await response.arrayBuffer();
    return { status: response.status, retryAfter: response.headers.get('retry-after'), contentType: response.headers.get('content-type') };
  } catch {
    return { status: 0, retryAfter: null, contentType: null };
  }
}

const isProblem503 = (a: Answer) => a.status === 503 && a.contentType === 'application/problem+json' && Number(a.retryAfter) > 0;

it('answers only images and 503s with Retry-After when one of two workers dies under load, restarts it, and serves with it again', { timeout: 180_000 }, async () => {
  const killed = stack.workers[1]!.service;
  const answers: Answer[] = [];
  let next = 0;
  const started = Date.now();
  const client = async () => {
    while (next < REQUESTS) {
      const i = next++;
      if (i === KILL_AFTER) killed.child.kill('SIGKILL');
      answers.push(await get(i));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const seconds = (Date.now() - started) / 1000;
  const failed = answers.filter((a) => a.status !== 200).length;

  // The supervisor starts worker-1 again on its port (it loads its model first).
  const deadline = Date.now() + 120_000;
  while (stack.workers[1]!.service === killed || stack.workers[1]!.service.exited) {
    if (Date.now() > deadline) throw new Error('worker-1 was not restarted within 120 s');
    await sleep(250);
  }
  const restarted = stack.workers[1]!;
  expect((await fetch(`${restarted.url}/readyz`)).status).toBe(200);
  // Misses again until the restarted worker has generated some: the edge routes to it again once
  // its circuit half-opens.
  let after = 0;
  const againDeadline = Date.now() + 60_000;
  const again: Answer[] = [];
  while ((await inferredImages([restarted])) === 0) {
    if (Date.now() > againDeadline) throw new Error('the restarted worker got no work within 60 s');
    again.push(...(await Promise.all(Array.from({ length: CONCURRENCY }, () => get(REQUESTS + after++)))));
  }

  console.log(
    `\n| requests | concurrency | killed after | failed | failed % | req/s | restarted worker served after |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n` +
      `| ${REQUESTS} | ${CONCURRENCY} | ${KILL_AFTER} | ${failed} | ${((100 * failed) / REQUESTS).toFixed(2)} | ${(REQUESTS / seconds).toFixed(0)} | ${after} more requests |`,
  );
  expect(killed.exited, 'the second worker was killed').toBe(true);
  expect(answers.length).toBe(REQUESTS);
  expect([...answers, ...again].filter((a) => a.status !== 200 && !isProblem503(a)), 'answers other than 200 or a 503 problem with Retry-After').toEqual([]);
  expect(failed / REQUESTS).toBeLessThan(0.01);
  expect(answers.slice(-20).every((a) => a.status === 200), 'the last requests, all after the kill, succeed').toBe(true);
  expect(again.every((a) => a.status === 200), 'requests once the worker is back succeed').toBe(true);
});
