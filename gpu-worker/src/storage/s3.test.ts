// The worker's S3 store (nodeS3Store: aws4 over node:http) against the storage contract on a real
// S3-compatible server (SeaweedFS from test/support/s3-server.ts), and what an outage does: errors
// the API answers as 'storage' (503), never a partial or stray object, never a miss.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StorageError } from '@imf/contract';
import { nodeS3Store, type NodeS3Options } from '@imf/contract/storage/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeStorageContract } from '../../../contract/src/testing/storage-contract.js';
import { startS3Server, type S3Server } from '../../../test/support/s3-server.js';
import { startCuttingProxy, type CuttingProxy } from '../../test/support/cutting-proxy.js';
import { asWorkerError } from '../errors.js';

function optionsFor(server: S3Server, endpoint = server.endpoint): NodeS3Options {
  return { endpoint, region: server.region, bucket: server.bucket, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, timeoutMs: 5000, maxAttempts: 3 };
}

// One server for the whole file: SeaweedFS takes seconds to start on a busy machine.
let shared: Promise<S3Server> | undefined;
const server = () => (shared ??= startS3Server());
afterAll(async () => {
  await (await shared)?.stop();
});

describeStorageContract('S3 over node:http (SeaweedFS)', async () => ({ store: nodeS3Store(optionsFor(await server())) }));

describe('S3 store without conditional PUT (servers that ignore If-None-Match)', () => {
  // Write-once then rests on a HEAD before the PUT: two racing writers may both write, which is
  // harmless only because one key always names the same bytes.
  it('still leaves an existing object untouched', async () => {
    const store = nodeS3Store({ ...optionsFor(await server()), conditionalPut: false });
    const key = `images/plain/${randomBytes(16).toString('hex')}.png`;
    const first = { body: new Uint8Array([1, 2, 3]), contentType: 'image/png', metadata: {} };
    expect(await store.putIfAbsent(key, first)).toBe('created');
    expect(await store.putIfAbsent(key, { ...first, body: new Uint8Array([9]) })).toBe('exists');
    expect(Array.from((await store.get(key))!.body)).toEqual([1, 2, 3]);
  });
});

describe('S3 store signing', () => {
  it("sends a PUT's body unhashed (UNSIGNED-PAYLOAD) and still signs the request", async () => {
    // What reaches the server: the test reads the PUT's headers (the contract suite above shows
    // SeaweedFS accepts such PUTs).
    const seen: Record<string, string | string[] | undefined>[] = [];
    const recorder = createServer((request, response) => {
      seen.push({ method: request.method, ...request.headers });
      request.resume();
      request.on('end', () => response.writeHead(200).end());
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = recorder.address() as AddressInfo;
      const store = nodeS3Store({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', bucket: 'images', accessKeyId: 'id', secretAccessKey: 'secret' });
      await store.putIfAbsent('images/x.png', { body: new Uint8Array(4096).fill(7), contentType: 'image/png', metadata: {} });
      const put = seen.find((h) => h.method === 'PUT')!;
      expect(put['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
      expect(put.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=id\/.*SignedHeaders=.*x-amz-content-sha256.*Signature=[0-9a-f]{64}$/);
    } finally {
      await new Promise((resolve) => recorder.close(resolve));
    }
  });
});

describe('S3 store retries', () => {
  it('tries a call the server answered with 5xx again, up to its attempts, and reports the last status', async () => {
    // A server that is always unavailable: the count of requests is what the test reads.
    let requests = 0;
    const unavailable = createServer((request, response) => {
      requests++;
      request.resume();
      response.writeHead(503).end();
    });
    await new Promise<void>((resolve) => unavailable.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = unavailable.address() as AddressInfo;
      const store = nodeS3Store({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', bucket: 'images', accessKeyId: 'id', secretAccessKey: 'secret', maxAttempts: 2 });
      await expect(store.get('images/x.png')).rejects.toMatchObject({ name: 'StorageError', status: 503 });
      expect(requests).toBe(2);
    } finally {
      await new Promise((resolve) => unavailable.close(resolve));
    }
  });
});

describe('S3 store refusals', () => {
  it('throws on a wrong secret instead of reporting a miss', async () => {
    const wrong = nodeS3Store({ ...optionsFor(await server()), secretAccessKey: 'wrong' });
    await expect(wrong.get('images/x.png')).rejects.toMatchObject({ name: 'StorageError', status: 403 });
    expect(await wrong.ready()).toBe(false);
  });
});

describe('S3 store during an outage', () => {
  let s3: S3Server;
  let proxy: CuttingProxy;
  beforeAll(async () => {
    s3 = await server();
    proxy = await startCuttingProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  const image = () => ({ body: new Uint8Array(randomBytes(256 * 1024)), contentType: 'image/png', metadata: { seed: '1' } });

  it('fails an upload cut midway and leaves no object under its key', async () => {
    const direct = nodeS3Store(optionsFor(s3));
    const throughProxy = nodeS3Store({ ...optionsFor(s3, proxy.endpoint), timeoutMs: 2000 });
    const key = `images/outage/${randomBytes(16).toString('hex')}.png`;
    proxy.mode = { kind: 'cut-uploads' };
    const failure = await throughProxy.putIfAbsent(key, image()).catch((error: unknown) => error);
    expect(asWorkerError(failure).kind).toBe('storage');
    expect(proxy.cuts).toBeGreaterThan(0);
    expect(await direct.get(key)).toBeUndefined();
    // Once the store is back the same write goes through whole.
    proxy.mode = { kind: 'pass' };
    const again = image();
    expect(await throughProxy.putIfAbsent(key, again)).toBe('created');
    expect(Buffer.from((await direct.get(key))!.body).equals(Buffer.from(again.body))).toBe(true);
  });

  it('tries a call that got no answer again, up to its attempts, and no further', async () => {
    proxy.mode = { kind: 'cut-uploads' };
    try {
      for (const maxAttempts of [1, 3]) {
        const throughProxy = nodeS3Store({ ...optionsFor(s3, proxy.endpoint), timeoutMs: 2000, maxAttempts });
        const before = proxy.cuts;
        await expect(throughProxy.putIfAbsent(`images/outage/${randomBytes(16).toString('hex')}.png`, image())).rejects.toBeInstanceOf(StorageError);
        expect(proxy.cuts - before).toBe(maxAttempts);
      }
    } finally {
      proxy.mode = { kind: 'pass' };
    }
  });

  it('gives up on a store that accepts connections and never answers, after its timeout', async () => {
    const throughProxy = nodeS3Store({ ...optionsFor(s3, proxy.endpoint), timeoutMs: 500, maxAttempts: 1 });
    proxy.mode = { kind: 'hang' };
    try {
      const started = performance.now();
      const failure = await throughProxy.get('images/any/thing.png').catch((error: unknown) => error);
      expect(asWorkerError(failure).kind).toBe('storage');
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      proxy.mode = { kind: 'pass' };
    }
  });

  it('reports a store that refuses connections as an error and not as a missing object', async () => {
    const throughProxy = nodeS3Store({ ...optionsFor(s3, proxy.endpoint), timeoutMs: 1000, maxAttempts: 1 });
    proxy.mode = { kind: 'refuse' };
    await expect(throughProxy.get('images/any/thing.png')).rejects.toBeInstanceOf(StorageError);
    expect(await throughProxy.ready()).toBe(false);
    proxy.mode = { kind: 'pass' };
  });
});
