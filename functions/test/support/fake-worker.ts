// A stand-in GPU worker for the edge's tests: a real HTTP server speaking the worker contract
// (contract/worker-api.ts) that derives the keys with the contract and answers with a small real
// PNG, and, in its failure modes, with 503s, 500s, silence, 409s (another model version) or an image
// under another key. It counts calls per seed so tests can tell which worker served what.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { deflateSync } from 'node:zlib';
import { freePort } from '../../../infra/local/processes.mjs';
import { imageKey, objectKey, WORKER_GENERATE_PATH, WORKER_READY_PATH, WORKER_SECRET_HEADER, workerImageRequestSchema, IMAGE_KEY_HEADER, OBJECT_KEY_HEADER } from '@imf/contract';
import type { ObjectWriter } from '../../src/storage/adapters/test-objects.js';

/**
 * 'other-version': serves another version of every model (409); 'wrong-key': answers the image with
 * a key that is not the request's, as a worker keying differently would; 'half': generates for even
 * seeds and is busy (503) for odd ones, so a batch fails part-way.
 */
export type FakeWorkerMode = 'ok' | 'busy' | 'broken' | 'slow' | 'other-version' | 'wrong-key' | 'half';

export interface FakeWorker {
  url: string;
  mode: FakeWorkerMode;
  close(): Promise<void>;
}

export interface FakeWorkerOptions {
  mode: FakeWorkerMode;
  secret: string;
  /** Where an 'ok' worker writes each image, as the real worker does. */
  writeObject?: ObjectWriter;
  delayMs?: number;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid greyscale PNG of size×size whose pixels depend on the seed. */
export function fakePng(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = Buffer.alloc(size * (size + 1));
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) rows[y * (size + 1) + 1 + x] = (seed * 31 + x * 7 + y * 13) & 0xff;
  return new Uint8Array(Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array())]));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Calls per seed, across every fake worker of this process (seeds are unique per test). */
export const generateCalls = new Map<string, number>();

export function startFakeWorker(options: FakeWorkerOptions): Promise<FakeWorker> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://worker');
    if (req.method === 'GET' && url.pathname === '/__calls') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(generateCalls)));
      return;
    }
    if (req.method === 'GET' && url.pathname === WORKER_READY_PATH) {
      res.writeHead(options.mode === 'ok' || options.mode === 'slow' || options.mode === 'half' ? 200 : 503).end();
      return;
    }
    if (req.method !== 'POST' || url.pathname !== WORKER_GENERATE_PATH) {
      res.writeHead(404).end();
      return;
    }
    const text = await readBody(req);
    const parsed = workerImageRequestSchema.safeParse(JSON.parse(text || '{}'));
    if (parsed.success) {
      const tag = `${options.mode}:${parsed.data.request.seed}`;
      generateCalls.set(tag, (generateCalls.get(tag) ?? 0) + 1);
    }
    if (req.headers[WORKER_SECRET_HEADER] !== options.secret) {
      res.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'bad worker secret', status: 401 }));
      return;
    }
    if (!parsed.success) {
      res.writeHead(400, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'bad request', status: 400 }));
      return;
    }
    if (options.mode === 'busy' || (options.mode === 'half' && parsed.data.request.seed % 2 === 1)) {
      res.writeHead(503, { 'retry-after': '2' }).end();
      return;
    }
    if (options.mode === 'broken') {
      res.writeHead(500).end();
      return;
    }
    if (options.mode === 'other-version') {
      res.writeHead(409, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'wrong model', status: 409 }));
      return;
    }
    if (options.mode === 'slow') await new Promise((r) => setTimeout(r, options.delayMs ?? 3000));
    const { request, modelVersion } = parsed.data;
    const key = options.mode === 'wrong-key' ? await imageKey({ ...request, seed: request.seed + 1 }, modelVersion) : await imageKey(request, modelVersion);
    const object = objectKey(request, modelVersion, key);
    const png = fakePng(Math.min(request.size, 64), request.seed);
    await options.writeObject?.(object, { body: png, contentType: 'image/png' });
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'image/png', [IMAGE_KEY_HEADER]: key, [OBJECT_KEY_HEADER]: object }).end(png);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        mode: options.mode,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A loopback port with nothing listening: connections to it are refused. */
export async function refusedUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
