// The edge of the local stack: functions/ on Node (bundled to dist/edge-node.mjs) or under
// `wrangler dev` (workerd), configured with the stack's secrets, worker URLs and storage.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { answers200, freePort, startService, waitUntil } from './processes.mjs';

/**
 * The edge's configuration (functions/README.md), shared by both runtimes. `hosts`: the names the
 * stack is reached by, the only ones the edge builds absolute URLs for (ALLOWED_HOSTS).
 */
export function edgeVars({ secrets, workerUrls, storage, env = process.env, hosts = ['127.0.0.1', 'localhost'] }) {
  const vars = {
    SIGNING_KEYS: secrets.signingKeys,
    WORKER_SECRET: secrets.workerSecret,
    WORKER_URLS: workerUrls.join(','),
    API_KEY_HASHES: secrets.apiKeyHash,
    STORAGE_INTEGRITY_KEY: secrets.storageIntegrityKey,
    ALLOWED_HOSTS: [...new Set(hosts)].join(','),
  };
  if (storage.kind === 's3') {
    Object.assign(vars, { S3_ENDPOINT: storage.endpoint, S3_BUCKET: storage.bucket, S3_REGION: storage.region, S3_ACCESS_KEY_ID: storage.accessKeyId, S3_SECRET_ACCESS_KEY: storage.secretAccessKey });
  } else {
    // The folder the workers' filesystem stores write: the Node edge reads it (workerd has no files).
    vars.STORAGE_DIR = storage.dir;
  }
  for (const name of [
    'RATE_LIMIT_PER_MINUTE', 'RATE_LIMIT_BURST', 'POOL_DEADLINE_MS', 'POOL_ATTEMPT_MS', 'POOL_BREAKER_COOLDOWN_MS', 'PUBLIC_ORIGIN', 'LOG_REQUESTS', 'CACHE_MAX_ENTRIES', 'CACHE_MAX_BYTES', 'SIGNED_URL_TTL_SECONDS', 'SIGNED_URL_WINDOW_SECONDS',
    'ALLOWED_HOSTS', 'TRUSTED_PROXIES', 'PLAYGROUND', 'PLAYGROUND_TTL_SECONDS', 'PLAYGROUND_URL_TTL_SECONDS', 'PLAYGROUND_RATE_LIMIT_PER_MINUTE', 'PLAYGROUND_RATE_LIMIT_BURST',
    'PLAYGROUND_GENERATIONS_PER_MINUTE', 'PLAYGROUND_GENERATIONS_BURST',
  ]) {
    if (env[name] !== undefined) vars[name] = env[name];
  }
  return vars;
}

/** Bundles the Node entry once per start (esbuild, well under a second). */
export function buildNodeEdge(repoRoot) {
  const result = spawnSync('npm', ['run', '--silent', 'build:edge-node'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('building the Node edge failed (npm run build:edge-node)');
}

/**
 * ALLOWED_HOSTS with `port` added to each of `names` listed without one: the edge allows an entry
 * without a port on the default port only, and the stack's own names are reached on its port.
 */
export function allowedHostsOnPort(list, port, names = ['127.0.0.1', 'localhost']) {
  return list
    .split(',')
    .filter(Boolean)
    .map((entry) => (names.includes(entry) ? `${entry}:${port}` : entry))
    .join(',');
}

export async function startEdge({ repoRoot, runtime = 'node', port, host = '127.0.0.1', vars: given, dataDir, env = process.env, log, quiet = false, onSpawn }) {
  const listenPort = port || (await freePort());
  const vars = given.ALLOWED_HOSTS ? { ...given, ALLOWED_HOSTS: allowedHostsOnPort(given.ALLOWED_HOSTS, listenPort, ['127.0.0.1', 'localhost', host]) } : given;
  let service;
  if (runtime === 'workerd') {
    const args = ['dev', '--port', String(listenPort), '--ip', host, '--persist-to', join(dataDir, 'wrangler'), '--show-interactive-dev-session=false', '--log-level', 'warn'];
    for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
    service = startService('edge', join(repoRoot, 'node_modules', '.bin', 'wrangler'), args, {
      cwd: repoRoot,
      env: { ...env, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME ?? join(repoRoot, '.cache', 'xdg'), WRANGLER_SEND_METRICS: 'false' },
      log,
      quiet,
      onSpawn,
    });
  } else {
    const childEnv = { ...env, ...vars, PORT: String(listenPort), HOST: host };
    // Filesystem mode reads STORAGE_DIR: drop any S3_* inherited from the shell, which would win.
    if (!vars.S3_ENDPOINT) for (const name of Object.keys(childEnv)) if (name.startsWith('S3_')) delete childEnv[name];
    service = startService('edge', process.execPath, [join(repoRoot, 'dist', 'edge-node.mjs')], { cwd: repoRoot, env: childEnv, log, quiet, onSpawn });
  }
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${listenPort}`;
  await waitUntil(service, 'ready (/healthz)', () => answers200(`${url}/healthz`), 120_000).catch(async (error) => {
    await service.stop();
    throw error;
  });
  return { service, url, port: listenPort, runtime };
}
