// Attacks from outside against the real stack (SeaweedFS, a GPU worker on the shipped model, the
// edge on Node): storage is closed but for its S3 port (no master or filer HTTP, volume reads and
// writes want JWTs, gRPC wants the stack's certificate, secrets are 0600), bytes written around the
// workers are never served (the tamper test writes with the storage key, without the tag), the playground
// is not a free GPU whatever addresses a client claims, and a forged Host builds no URL.
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalPath, imageKey, integrityMatches, objectKey, storedObject, type ImageRequest } from '@imf/contract';
import { inferredImages, requestsFor, shippedModel, startTestStack, type TestStack } from './support/stack.js';
import { fileIds, weedShell } from './support/seaweed.js';

const { manifest } = shippedModel();
let stack: TestStack & { cleanup(): Promise<void> };

const request = requestsFor(manifest, 3_000_000, 4);

async function get(path: string): Promise<{ status: number; tier: string | null; bytes: Buffer }> {
  const send = () => fetch(new URL(path, stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` } });
  // Once more on a socket error: after a long pause (a weed shell run) the pooled connection may be
  // one the edge has just closed for idleness.
  const response = await send().catch(send);
  return { status: response.status, tier: response.headers.get('x-image-tier'), bytes: Buffer.from(await response.arrayBuffer()) };
}

/** Stored objects the worker found failing their integrity check so far (its /metrics). */
async function workerIntegrityFailures(): Promise<number> {
  const metrics = await (await fetch(`${stack.workers[0]!.url}/metrics`)).text();
  return Number(/^imf_worker_storage_integrity_failures_total (\d+)$/m.exec(metrics)?.[1] ?? 0);
}

/** Sends raw bytes to the edge and reads the whole answer. */
function raw(text: string): Promise<string> {
  const { hostname, port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const GENERATIONS_BURST = 3;

beforeAll(async () => {
  stack = await startTestStack({ workers: 1, env: { PLAYGROUND_GENERATIONS_BURST: String(GENERATIONS_BURST), PLAYGROUND_GENERATIONS_PER_MINUTE: '0.001' } });
});
afterAll(async () => {
  await stack?.cleanup();
});

describe('closed storage', () => {
  it("answers nothing on SeaweedFS's filer HTTP port: no list, read, write or delete", async () => {
    const filer = `http://127.0.0.1:${stack.storage.ports!.filer}`;
    const object = `${filer}/buckets/${stack.storage.bucket}/images/probe.png`;
    const answers = [
      await fetch(`${filer}/buckets/${stack.storage.bucket}/`, { headers: { accept: 'application/json' } }),
      await fetch(object),
      await fetch(object, { method: 'PUT', body: 'evil' }),
      await fetch(object, { method: 'DELETE' }),
    ];
    for (const answer of answers) expect(answer.status).toBeGreaterThanOrEqual(400);
  });

  it("never serves an object whose Content-Type was rewritten around the workers: regenerated and repaired", async () => {
    const req = request();
    const path = canonicalPath(req);
    const original = await get(path);
    expect([original.status, original.tier]).toEqual([200, 'generated']);
    const object = objectKey(req, manifest.version, await imageKey(req, manifest.version));
    const s3 = new AwsClient({ accessKeyId: stack.storage.accessKeyId!, secretAccessKey: stack.storage.secretAccessKey!, region: stack.storage.region!, service: 's3', retries: 0 });
    const storedUrl = `${stack.storage.endpoint}/${stack.storage.bucket}/${object}`;
    // The same bytes and the same metadata, the integrity tag among it, with Content-Type: text/html.
    const stored = await s3.fetch(storedUrl);
    const metadata = Object.fromEntries([...stored.headers].filter(([name]) => name.startsWith('x-amz-meta-')));
    const put = await s3.fetch(storedUrl, { method: 'PUT', body: Buffer.from(await stored.arrayBuffer()), headers: { ...metadata, 'content-type': 'text/html' } });
    expect(put.status).toBeLessThan(300);
    expect((await s3.fetch(storedUrl)).headers.get('content-type')).toBe('text/html');

    await stack.restartEdge();
    const failuresBefore = await workerIntegrityFailures();
    const response = await fetch(new URL(path, stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` } });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect([response.status, response.headers.get('content-type'), response.headers.get('x-image-tier')]).toEqual([200, 'image/png', 'generated']);
    expect(bytes.equals(original.bytes)).toBe(true);
    const repaired = await s3.fetch(storedUrl);
    await repaired.arrayBuffer();
    expect(repaired.headers.get('content-type')).toBe('image/png');
    // Counted: on the edge (its /readyz) and on the worker, which repaired it.
    expect(((await (await fetch(new URL('/readyz', stack.url))).json()) as { integrity_failures: number }).integrity_failures).toBe(1);
    expect(await workerIntegrityFailures()).toBe(failuresBefore + 1);
  });

  it('refuses a volume write without a JWT', async () => {
    const form = new FormData();
    form.append('file', new Blob(['evil']));
    expect((await fetch(`http://127.0.0.1:${stack.storage.ports!.volume}/1,01637037d6`, { method: 'POST', body: form })).status).toBe(401);
  });

  it("refuses a volume read without a JWT, even of a stored image's file id", async () => {
    const req = request();
    expect((await get(canonicalPath(req))).status).toBe(200);
    const [fid] = fileIds(stack, objectKey(req, manifest.version, await imageKey(req, manifest.version)));
    expect(fid, 'the operator finds the file id').toMatch(/^\d+,[0-9a-f]+$/);
    const read = await fetch(`http://127.0.0.1:${stack.storage.ports!.volume}/${fid}`);
    expect(read.status).toBe(401);
    expect(Buffer.from(await read.arrayBuffer()).includes(Buffer.from('PNG'))).toBe(false);
  });

  it("has no admin HTTP on SeaweedFS's master: an anonymous col/delete deletes nothing", async () => {
    const req = request();
    expect((await get(canonicalPath(req))).status).toBe(200);
    const master = `http://127.0.0.1:${stack.storage.ports!.master}`;
    const answer = await fetch(`${master}/col/delete?collection=${stack.storage.bucket}`).then(
      (r) => r.status,
      () => 0,
    );
    expect(answer === 0 || answer >= 400, `col/delete answered ${answer}`).toBe(true);
    expect(weedShell(stack, ['collection.list'], { credentials: true })).toContain(`collection:"${stack.storage.bucket}"`);
    const [fid] = fileIds(stack, objectKey(req, manifest.version, await imageKey(req, manifest.version)));
    expect(fid).toBeTruthy();
  });

  it("answers SeaweedFS's gRPC only with the stack's certificate: weed shell without it lists and changes nothing", async () => {
    const anonymous = weedShell(stack, ['fs.ls /buckets', `fs.configure -locationPrefix=/buckets/${stack.storage.bucket}/ -readOnly -apply`, 'fs.configure'], { credentials: false });
    expect(anonymous).not.toContain(stack.storage.bucket);
    expect(anonymous).not.toMatch(/readOnly/i);
    const operator = weedShell(stack, ['fs.ls /buckets', 'fs.configure'], { credentials: true });
    expect(operator).toContain(stack.storage.bucket);
    expect(operator).not.toMatch(/"readOnly":\s*true/);
    // Storage still takes fresh images.
    expect((await get(canonicalPath(request()))).status).toBe(200);
  });

  it("keeps every secret file readable by the stack's user alone", () => {
    const files = [join(stack.dataDir, 'secrets.json'), join(stack.dataDir, 'seaweedfs', 's3.json'), ...['ca.key', 'weed.key', 'ca.crt', 'weed.crt'].map((f) => join(stack.dataDir, 'seaweedfs', 'security', f))];
    for (const file of files) expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
    expect((statSync(join(stack.dataDir, 'seaweedfs', 'security')).mode & 0o777).toString(8)).toBe('700');
  });

  it("listens on loopback only: the storage ports are not reachable on the machine's other addresses", async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!external) return; // a machine with loopback only: nothing else to reach them from
    const { master, volume, filer, s3, masterGrpc, volumeGrpc, filerGrpc } = stack.storage.ports!;
    for (const port of [master, volume, filer, s3, masterGrpc, volumeGrpc, filerGrpc]) expect(await accepts(external, port), `port ${port} on ${external}`).toBe(false);
    expect(await accepts('127.0.0.1', s3)).toBe(true);
  });

  it('never serves bytes written around the workers: a fresh edge regenerates the image and the worker writes it back', async () => {
    const req = request();
    const path = canonicalPath(req);
    const original = await get(path);
    expect([original.status, original.tier]).toEqual([200, 'generated']);

    // Overwrite the stored object around the workers (with the storage key, as anyone holding it or
    // another path into storage could) with another image of the same size and no integrity tag.
    const object = objectKey(req, manifest.version, await imageKey(req, manifest.version));
    const other = await get(canonicalPath(request({ class: 9 })));
    expect(other.bytes.equals(original.bytes)).toBe(false);
    const s3 = new AwsClient({ accessKeyId: stack.storage.accessKeyId!, secretAccessKey: stack.storage.secretAccessKey!, region: stack.storage.region!, service: 's3', retries: 0 });
    const storedUrl = `${stack.storage.endpoint}/${stack.storage.bucket}/${object}`;
    const put = await s3.fetch(storedUrl, { method: 'PUT', body: other.bytes, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBeLessThan(300);
    expect(Buffer.from(await (await s3.fetch(storedUrl)).arrayBuffer()).equals(other.bytes)).toBe(true); // the tamper took

    await stack.restartEdge(); // an empty memory cache: the edge must look in storage again
    const failuresBefore = await workerIntegrityFailures();
    const before = await inferredImages(stack.workers);
    const after = await get(path);
    expect(after.status).toBe(200);
    expect(after.tier).toBe('generated');
    expect(after.bytes.equals(other.bytes)).toBe(false);
    expect(after.bytes.equals(original.bytes)).toBe(true);
    expect(await inferredImages(stack.workers)).toBe(before + 1);
    const ready = (await (await fetch(new URL('/readyz', stack.url))).json()) as { integrity_failures: number };
    expect(ready.integrity_failures).toBe(1);
    expect(await workerIntegrityFailures()).toBe(failuresBefore + 1);

    // The worker replaced the tampered object: storage holds the original bytes with a valid tag,
    // and the next fresh edge answers from storage again.
    const repaired = await s3.fetch(storedUrl);
    const repairedBytes = new Uint8Array(await repaired.arrayBuffer());
    expect(Buffer.from(repairedBytes).equals(original.bytes)).toBe(true);
    const secrets = (stack as unknown as { secrets: { storageIntegrityKey: string } }).secrets;
    expect(await integrityMatches(secrets.storageIntegrityKey, object, storedObject(repairedBytes, repaired.headers))).toBe(true);
    await stack.restartEdge();
    const again = await get(path);
    expect([again.tier, again.bytes.equals(original.bytes)]).toEqual(['storage', true]);
  });
});

describe('the playground against the real stack', () => {
  const pageToken = async () => {
    const html = await (await fetch(new URL('/', stack.url))).text();
    return /name="playground-token" content="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
  };
  const sign = async (token: string, req: ImageRequest, headers: Record<string, string> = {}) =>
    fetch(new URL('/playground/sign', stack.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-playground-token': token, ...headers },
      body: JSON.stringify({ model: req.model, class: req.class, guidance: req.guidance, interval: [req.tmin, req.tmax], seed: req.seed, size: req.size }),
    });

  it('refuses to sign for another site', async () => {
    expect((await sign(await pageToken(), request(), { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('gives a client a bounded number of fresh generations, however many addresses it claims and page tokens it takes', async () => {
    const before = await inferredImages(stack.workers);
    const statuses = [];
    for (let i = 0; i < GENERATIONS_BURST + 3; i++) {
      const spoof = { 'x-forwarded-for': `203.0.113.${i}`, 'cf-connecting-ip': `198.51.100.${i}` };
      const minted = await sign(await pageToken(), request(), spoof);
      expect(minted.status).toBe(200);
      const { url } = (await minted.json()) as { url: string };
      statuses.push((await fetch(new URL(url, stack.url), { headers: spoof })).status);
    }
    expect(statuses).toEqual([...Array(GENERATIONS_BURST).fill(200), 429, 429, 429]);
    expect(await inferredImages(stack.workers)).toBe(before + GENERATIONS_BURST);
  });
});

describe('origins and parser errors', () => {
  it('builds no URL from a forged Host header', async () => {
    const answer = await raw(`GET /v1/images/${manifest.id}/3.png?seed=5 HTTP/1.1\r\nhost: evil.example\r\nauthorization: Bearer ${stack.apiKey}\r\nconnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 302/);
    expect(answer).not.toContain('evil.example');
  });

  it('answers a 100 KB header with problem+json', async () => {
    const answer = await raw(`GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431/);
    expect(answer.toLowerCase()).toContain('application/problem+json');
  });
});

describe('the outside probe (npm run probe:security) against the real stack', () => {
  it('reports every attack held', { timeout: 120_000 }, () => {
    const { master, volume, filer, masterGrpc, filerGrpc } = stack.storage.ports!;
    const probe = spawnSync(
      process.execPath,
      [
        fileURLToPath(new URL('../security/probe.mjs', import.meta.url)),
        stack.url,
        '--key', stack.apiKey,
        '--storage-host', '127.0.0.1',
        '--master-port', String(master), '--volume-port', String(volume), '--filer-port', String(filer),
        '--master-grpc-port', String(masterGrpc), '--filer-grpc-port', String(filerGrpc),
        '--data-dir', stack.dataDir,
      ],
      { encoding: 'utf8', timeout: 110_000 },
    );
    const report = `${probe.stdout}${probe.stderr}`;
    console.log(report);
    expect(report).toMatch(/\d+ held, 0 open/);
    expect(report).toMatch(/held\s+SeaweedFS master .*col\/delete/);
    expect(report).toMatch(/held\s+SeaweedFS gRPC .*weed shell without credentials\s+nothing listed/);
    expect(report).toMatch(/held\s+SeaweedFS volume .*read without a JWT\s+401/);
    expect(report).toMatch(/held\s+secret files .*all 0600/);
    expect(probe.status).toBe(0);
  });
});
