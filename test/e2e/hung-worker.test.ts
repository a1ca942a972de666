// A hung worker under load: one of two GPU workers is stopped (SIGSTOP: its process holds its
// connections and answers nothing, as a wedged GPU does) while 32 clients ask for cache misses.
// The edge's attempt deadline (POOL_ATTEMPT_MS) hedges each stuck request on the other worker and
// opens the hung one's circuit, so requests keep completing at ≥ 30% of the rate before and none
// waits longer than the deadline of its two attempts. Prints a table of the phases.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalPath, defaultSize } from '@imf/contract';
import { shippedModel, startTestStack, type StackService, type TestStack } from './support/stack.js';

const { manifest } = shippedModel();
const CLIENTS = 32;
const PHASE_MS = 10_000;
const ATTEMPT_MS = 1500;
/** The most one request may wait while a worker hangs: its attempt on the hung worker, then one on the other. */
const WAIT_BOUND_MS = 2 * ATTEMPT_MS + 1000;

let stack: TestStack & { cleanup(): Promise<void>; workers: { url: string; service: StackService }[] };

beforeAll(async () => {
  stack = (await startTestStack({ workers: 2, env: { POOL_ATTEMPT_MS: String(ATTEMPT_MS) } })) as typeof stack;
});
afterAll(async () => {
  // A stopped process would never see the stack's SIGTERM.
  stack?.workers[1]?.service.child.kill('SIGCONT');
  await stack?.cleanup();
});

const seed0 = 7_000_000 + Math.floor(Math.random() * 1_000_000);
let nextSeed = 0;
const freshPath = () =>
  canonicalPath({ model: manifest.id, class: nextSeed % 10, guidance: manifest.guidance.default, tmin: manifest.interval.default[0], tmax: manifest.interval.default[1], seed: seed0 + nextSeed++, format: 'png', size: defaultSize(manifest) });

interface Answer {
  status: number;
  ms: number;
}

async function get(path: string): Promise<Answer> {
  const started = Date.now();
  try {
    const response = await fetch(new URL(path, stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` }, signal: AbortSignal.timeout(30_000) });
    await response.arrayBuffer();
    return { status: response.status, ms: Date.now() - started };
  } catch {
    return { status: 0, ms: Date.now() - started };
  }
}

/** CLIENTS closed-loop clients of fresh misses for `ms`: the answers of the requests sent in that time. */
async function phase(ms: number): Promise<{ answers: Answer[]; seconds: number }> {
  const answers: Answer[] = [];
  const started = Date.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < until) answers.push(await get(freshPath()));
    }),
  );
  return { answers, seconds: (Date.now() - started) / 1000 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('keeps serving through the other worker, within the attempt deadline, while one of two workers hangs', { timeout: 120_000 }, async () => {
  await phase(2000); // warm-up: connections, first batches
  const before = await phase(PHASE_MS);
  const hung = stack.workers[1]!.service;
  hung.child.kill('SIGSTOP');
  let during: Awaited<ReturnType<typeof phase>>;
  try {
    during = await phase(PHASE_MS);
  } finally {
    hung.child.kill('SIGCONT');
  }
  await sleep(500);
  const after = await phase(3000);

  const rate = (p: { answers: Answer[]; seconds: number }) => p.answers.filter((a) => a.status === 200).length / p.seconds;
  const slowest = (p: { answers: Answer[] }) => Math.max(...p.answers.map((a) => a.ms));
  const row = (name: string, p: { answers: Answer[]; seconds: number }) => {
    const ok = p.answers.filter((a) => a.status === 200).length;
    return `| ${name} | ${p.answers.length} | ${ok} | ${p.answers.length - ok} | ${rate(p).toFixed(1)} | ${slowest(p)} |`;
  };
  console.log(
    `\n| phase (${CLIENTS} clients, POOL_ATTEMPT_MS=${ATTEMPT_MS}) | requests | images | other | images/s | slowest ms |\n| --- | ---: | ---: | ---: | ---: | ---: |\n` +
      [row('both workers', before), row(`worker-1 stopped ${PHASE_MS / 1000} s`, during), row('after SIGCONT', after)].join('\n'),
  );

  expect(rate(before)).toBeGreaterThan(0);
  expect(rate(during) / rate(before), 'images per second while one worker hangs, over the rate before').toBeGreaterThanOrEqual(0.3);
  expect(slowest(during), 'no request waits past the deadline of its two attempts').toBeLessThanOrEqual(WAIT_BOUND_MS);
  expect(during.answers.filter((a) => a.status !== 200 && a.status !== 503), 'answers other than images or 503s').toEqual([]);
  expect(after.answers.every((a) => a.status === 200), 'every request after the worker resumes succeeds').toBe(true);
});
