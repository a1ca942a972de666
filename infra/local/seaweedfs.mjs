// Storage for the local stack: SeaweedFS (`weed server` from .venv-s3/, installed by
// scripts/setup-s3.sh) serving the S3 API on loopback, its data in a folder that outlives the process.
// Only the S3 port is meant to be used, and nothing else answers without the stack's credentials:
// every port listens on loopback alone, the master has no HTTP (its admin calls answer anyone), the
// volume servers want JWTs for reads and writes and the filer for its HTTP API (keys made at each
// start), and every gRPC port wants the stack's certificate (mutual TLS; made at the first start,
// 0600 under the data folder). See seaweed-security.mjs.
// Fixed ports by default (the master's state names them, so a persistent folder wants the same ports
// on the next start); `ports: 'free'` picks free ones for a throw-away folder (tests); an object of
// ports (a previous start's `ports`) restarts on the same folder where the edge and workers look.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
import { freePort, startService, waitUntil } from './processes.mjs';
import { grpcCertificates, jwtKeys, seaweedSecurityEnv } from './seaweed-security.mjs';

export function weedBinary(repoRoot, env = process.env) {
  const bin = env.WEED_BIN ?? join(repoRoot, '.venv-s3', 'bin', 'weed');
  if (!existsSync(bin)) throw new Error(`SeaweedFS not found at ${bin}: run \`npm run setup\` (or set WEED_BIN)`);
  return bin;
}

/**
 * Volumes of 32 MB the server may make: 8 (256 MB) by default, plenty for small models' images;
 * SEAWEEDFS_VOLUME_MAX raises it for runs that store many large ones (the host-ceiling benchmark).
 */
function volumeMax(env) {
  const max = Number(env.SEAWEEDFS_VOLUME_MAX ?? 8);
  if (!Number.isInteger(max) || max < 1) throw new Error(`SEAWEEDFS_VOLUME_MAX must be a whole number of volumes, not ${env.SEAWEEDFS_VOLUME_MAX}`);
  return max;
}

/** Starts SeaweedFS with one bucket and one access key; resolves once an object can be written and read. */
export async function startSeaweed({ repoRoot, dir, s3Port = 8333, ports = 'fixed', bucket = 'images', accessKeyId, secretAccessKey, log, onSpawn, env = process.env }) {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 's3.json');
  // The S3 admin key: readable by this user alone (writeFileSync's mode applies only to a new file).
  writeFileSync(config, JSON.stringify({ identities: [{ name: 'stack', credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }] }), { mode: 0o600 });
  chmodSync(config, 0o600);
  let p;
  if (typeof ports === 'object') {
    p = ports;
  } else if (ports === 'free') {
    const list = [];
    while (list.length < 8) {
      const port = await freePort();
      if (!list.includes(port)) list.push(port);
    }
    p = { master: list[0], masterGrpc: list[1], volume: list[2], volumeGrpc: list[3], filer: list[4], filerGrpc: list[5], s3: list[6], s3Grpc: list[7] };
  } else {
    // weed's usual layout shifted off 8080/8888 (the worker's and other tools' defaults).
    p = { master: 9334, masterGrpc: 19334, volume: 9335, volumeGrpc: 19335, filer: 9336, filerGrpc: 19336, s3: s3Port, s3Grpc: s3Port + 10000 };
  }
  // -filer.saveToFilerLimit: objects under 64 KB (a small model's images) live in the filer's own
  // store, which saves each put the hop to a volume server.
  const args = [
    'server', `-dir=${join(dir, 'data')}`, '-ip=127.0.0.1', '-ip.bind=127.0.0.1',
    // No HTTP on the master (its admin calls, such as /col/delete, answer anyone who can connect):
    // the other components talk to it over gRPC, which wants the stack's certificate.
    '-disableHttp',
    `-master.port=${p.master}`, `-master.port.grpc=${p.masterGrpc}`, '-master.telemetry=false', '-master.volumeSizeLimitMB=32',
    `-volume.port=${p.volume}`, `-volume.port.grpc=${p.volumeGrpc}`, `-volume.max=${volumeMax(env)}`,
    '-filer', `-filer.port=${p.filer}`, '-filer.saveToFilerLimit=65536', `-filer.port.grpc=${p.filerGrpc}`,
    '-s3', `-s3.port=${p.s3}`, `-s3.port.grpc=${p.s3Grpc}`, '-s3.port.iceberg=0', '-s3.port.lance=0', `-s3.config=${config}`,
  ];
  const jwt = jwtKeys();
  // One Go scheduler thread unless GOMAXPROCS says otherwise: on a small machine shared with the
  // workers, Go's idle threads spinning for work cost more CPU than SeaweedFS's own (bench:stack:
  // 1.14 → 0.89 ms of its CPU per miss, and less taken from the worker beside it).
  const certificates = grpcCertificates(join(dir, 'security'));
  const weedEnv = { GOMAXPROCS: '1', ...env, ...seaweedSecurityEnv(certificates, jwt) };
  const service = startService('s3', weedBinary(repoRoot), args, { silent: true, log, onSpawn, env: weedEnv });
  const endpoint = `http://127.0.0.1:${p.s3}`;
  const region = 'us-east-1';
  const client = new AwsClient({ accessKeyId, secretAccessKey, region, service: 's3', retries: 0 });
  // The S3 port opens before the filer and volume server are wired up: wait for a real round trip.
  await waitUntil(service, 'S3 serving', async () => {
    await client.fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
    const probe = `${endpoint}/${bucket}/.start-probe`;
    const put = await client.fetch(probe, { method: 'PUT', body: 'ok' });
    return put.ok && (await (await client.fetch(probe)).text()) === 'ok';
  }, 90_000).catch(async (error) => {
    await service.stop();
    throw error;
  });
  return { service, endpoint, bucket, region, accessKeyId, secretAccessKey, ports: p, jwt, certificates };
}
