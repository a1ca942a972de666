// A storage outage under load: SeaweedFS is killed (SIGKILL) while cache misses stream in. Every
// answer must be an image or a 503 problem with Retry-After; the stack's supervisor starts storage
// again on the same data folder and ports, and then every stored object must be a whole image (no
// partial writes) and requests succeed again, refused ones included. Prints a table of the phases.
import { createHash } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalPath, defaultSize } from '@imf/contract';
import { decodePng } from './support/png.js';
import { shippedModel, startTestStack, type TestStack } from './support/stack.js';

const { manifest } = shippedModel();
const CONCURRENCY = 8;
const BEFORE = 16;
const UNDER_LOAD = 120;
const KILL_AFTER = 24;
const WHILE_DOWN = 20;

interface Answer {
  path: string;
  status: number;
  retryAfter: string | null;
  contentType: string | null;
  etag: string | null;
  sha256?: string;
}

let stack: TestStack & { cleanup(): Promise<void> };
const seed0 = 5_000_000 + Math.floor(Math.random() * 1_000_000);
let nextSeed = 0;
const freshPath = () =>
  canonicalPath({ model: manifest.id, class: nextSeed % 10, guidance: manifest.guidance.default, tmin: manifest.interval.default[0], tmax: manifest.interval.default[1], seed: seed0 + nextSeed++, format: 'png', size: defaultSize(manifest) });

async function get(path: string): Promise<Answer> {
  try {
    const response = await fetch(new URL(path, stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` }, signal: AbortSignal.timeout(30_000) });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return {
      path,
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      contentType: response.headers.get('content-type'),
      etag: response.headers.get('etag'),
      ...(response.status === 200 ? { sha256: createHash('sha256').update(bytes).digest('hex') } : {}),
    };
  } catch {
    return { path, status: 0, retryAfter: null, contentType: null, etag: null };
  }
}

/** Sends the paths with CONCURRENCY clients; onSend(i) runs before the i-th request leaves. */
async function drive(paths: string[], onSend: (i: number) => void = () => {}): Promise<Answer[]> {
  const answers: Answer[] = new Array(paths.length);
  let next = 0;
  const client = async () => {
    while (next < paths.length) {
      const i = next++;
      onSend(i);
      answers[i] = await get(paths[i]!);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return answers;
}

const isProblem503 = (a: Answer) => a.status === 503 && a.contentType === 'application/problem+json' && Number(a.retryAfter) > 0;

/** Every object under `images/` in the bucket, with its bytes and the size it was generated at. */
async function storedImages(): Promise<{ key: string; bytes: Uint8Array; size: number; imageKey: string | null }[]> {
  const s = stack.storage;
  const client = new AwsClient({ accessKeyId: s.accessKeyId!, secretAccessKey: s.secretAccessKey!, region: s.region, service: 's3', retries: 0 });
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ 'list-type': '2', prefix: 'images/', ...(token ? { 'continuation-token': token } : {}) });
    const xml = await (await client.fetch(`${s.endpoint}/${s.bucket}?${query}`)).text();
    keys.push(...[...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!));
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]+)</.exec(xml)?.[1] : undefined;
  } while (token);
  return Promise.all(
    keys.map(async (key) => {
      const response = await client.fetch(`${s.endpoint}/${s.bucket}/${key}`);
      return { key, bytes: new Uint8Array(await response.arrayBuffer()), size: Number(response.headers.get('x-amz-meta-size')), imageKey: response.headers.get('x-amz-meta-image-key') };
    }),
  );
}

beforeAll(async () => {
  stack = await startTestStack({ workers: 1 });
});
afterAll(async () => {
  await stack?.cleanup();
});

it('answers 503 problems with Retry-After while storage is down, leaves no partial objects, and recovers once the stack restarts it', { timeout: 180_000 }, async () => {
  const storage = stack.storage.service!;
  const up = await drive(Array.from({ length: BEFORE }, freshPath));

  const underLoad = await drive(Array.from({ length: UNDER_LOAD }, freshPath), (i) => {
    if (i === KILL_AFTER) storage.child.kill('SIGKILL');
  });
  for (let i = 0; i < 100 && !storage.exited; i++) await new Promise((r) => setTimeout(r, 50));
  const down = await drive(Array.from({ length: WHILE_DOWN }, freshPath));

  // The supervisor starts storage again by itself (no call from here) once it has died.
  const deadline = Date.now() + 90_000;
  while (stack.storage.service === storage || stack.storage.service!.exited) {
    if (Date.now() > deadline) throw new Error('storage was not restarted within 90 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  // What was refused during the outage must work now, and so must something new.
  const refused = [...underLoad, ...down].filter((a) => a.status === 503).map((a) => a.path);
  const back = await drive([...refused.slice(0, 20), ...Array.from({ length: 10 }, freshPath)]);
  const objects = await storedImages();

  const answered = new Map([...up, ...underLoad, ...back].filter((a) => a.status === 200).map((a) => [a.etag!.replaceAll('"', ''), a.sha256!]));
  const whole = objects.filter((o) => {
    try {
      const png = decodePng(o.bytes);
      return png.width === o.size && png.height === o.size && png.channels === manifest.image.channels && o.key.endsWith(`/${o.imageKey}.png`);
    } catch {
      return false;
    }
  });
  const byKey = new Map(objects.map((o) => [o.imageKey, createHash('sha256').update(o.bytes).digest('hex')]));
  const sameAsAnswered = [...answered].filter(([key, sha]) => byKey.get(key) === sha).length;

  const row = (phase: string, answers: Answer[]) =>
    `| ${phase} | ${answers.length} | ${answers.filter((a) => a.status === 200).length} | ${answers.filter(isProblem503).length} | ${answers.filter((a) => a.status !== 200 && !isProblem503(a)).length} |`;
  console.log(
    [
      '',
      '| phase | requests | 200 | 503 problem + Retry-After | other |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('storage up', up),
      row(`storage killed after ${KILL_AFTER} (${CONCURRENCY} clients)`, underLoad),
      row('storage down, then restarting', down),
      row('storage restarted by the stack (20 refused + 10 new)', back),
      '',
      '| objects in the bucket | whole PNGs of the right size | images answered 200 | stored with the same bytes |',
      '| ---: | ---: | ---: | ---: |',
      `| ${objects.length} | ${whole.length} | ${answered.size} | ${sameAsAnswered} |`,
      '',
    ].join('\n'),
  );

  expect(up.every((a) => a.status === 200), 'all served before the outage').toBe(true);
  expect(underLoad.filter((a) => a.status !== 200 && !isProblem503(a)), 'answers other than 200 or a 503 problem with Retry-After').toEqual([]);
  expect(down.filter((a) => a.status !== 200 && !isProblem503(a)), 'answers while storage is down or restarting other than 200 or a 503 problem').toEqual([]);
  expect([...underLoad, ...down].filter(isProblem503).length, 'the outage was seen: some requests were refused').toBeGreaterThan(0);
  expect(whole.length, 'every stored object is a whole image of its size').toBe(objects.length);
  expect(sameAsAnswered, 'every image answered 200 is stored with the same bytes').toBe(answered.size);
  expect(back.every((a) => a.status === 200), 'requests succeed once storage is back, refused ones included').toBe(true);
});
