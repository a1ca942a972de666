// The worker's life as a process: bad models refused with a clear log line while good ones serve,
// bad configuration stops start-up, and SIGTERM drains queued work before the process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '@imf/contract';
import { repoPath, workerRoot } from './paths.js';
import { ModelsDir } from './support/model-folders.js';
import { generate, metric, SECRET, startTestWorker, workRequest } from './support/worker.js';

/** GET on a connection of its own, never one kept alive from an earlier request; resolves with the status. */
function newConnectionGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

describe('model folders at start-up', () => {
  const models = new ModelsDir();
  afterAll(() => models.remove());

  it('refuses a bad model with a clear log line and serves the good one', async () => {
    models.add('imf-mnist');
    const broken = models.add('imf-broken', () => {}, 'altered');
    const worker = await startTestWorker({ MODELS_DIR: models.path });
    try {
      await worker.worker.ready;
      const line = worker.logs.find((l) => l.level === 'error' && l.folder === broken);
      expect(line?.msg).toMatch(/^model refused: sha256 of model\.onnx is [0-9a-f]{64} \(\d+ bytes\), the manifest says [0-9a-f]{64} \(\d+ bytes\)$/);

      const ready = await fetch(`${worker.url}/readyz`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { models: { id: string }[]; refused: { folder: string; reason: string }[] };
      expect(body.models.map((m) => m.id)).toEqual(['imf-mnist']);
      expect(body.refused).toEqual([{ folder: broken, reason: expect.stringMatching(/sha256/) }]);

      const manifest = worker.worker.generator()!.servedModels[0]!.manifest;
      expect((await generate(worker.url, await workRequest(manifest, { seed: 5 }))).status).toBe(200);
    } finally {
      await worker.stop();
    }
  });

  it('refuses a model whose ONNX graph is not the sampler its manifest describes', async () => {
    const dir = new ModelsDir();
    dir.add('imf-mnist');
    // The real graph with its input t_max renamed: the manifest is right, the file is not.
    const renamed = dir.addRenamed('imf-renamed', 't_max', 't_mix');
    const worker = await startTestWorker({ MODELS_DIR: dir.path });
    try {
      await worker.worker.ready;
      expect(worker.worker.refused()).toEqual([{ dir: renamed, reason: expect.stringMatching(/the ONNX graph has no input "t_max"/) }]);
      expect(worker.worker.generator()!.servedModels.map((m) => m.manifest.id)).toEqual(['imf-mnist']);
    } finally {
      await worker.stop();
      dir.remove();
    }
  });

  it('never becomes ready when no model can be served', async () => {
    const empty = new ModelsDir();
    empty.add('imf-broken', (m) => (m.version = 'nope'));
    const worker = await startTestWorker({ MODELS_DIR: empty.path });
    try {
      await expect(worker.worker.ready).rejects.toThrow(/no servable model/);
      expect((await fetch(`${worker.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    } finally {
      await worker.stop();
      empty.remove();
    }
  });
});

/** The worker as its own process (`node --import tsx src/main.ts`), its JSON log lines collected. */
function spawnWorker(env: Record<string, string>): { child: ChildProcess; lines: Record<string, unknown>[]; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: workerRoot,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts.filter(Boolean)) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, stderr: () => stderr, exit };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the worker process', () => {
  it('stops at start with every configuration problem on stderr and exit code 2', async () => {
    const worker = spawnWorker({ MAX_BATCH_SIZE: '0', S3_ENDPOINT: 'not a url' });
    expect(await worker.exit).toBe(2);
    const stderr = worker.stderr();
    expect(stderr).toMatch(/^error: invalid configuration:/);
    for (const name of ['WORKER_SECRET', 'MAX_BATCH_SIZE', 'S3_ENDPOINT', 'S3_BUCKET']) expect(stderr).toContain(name);
  });

  it('on SIGTERM stops accepting, finishes the queued requests, then exits 0', async () => {
    const storage = mkdtempSync(join(tmpdir(), 'imf-drain-'));
    // A long batch delay keeps the requests queued when the signal arrives.
    const worker = spawnWorker({ WORKER_SECRET: SECRET, PORT: '0', HOST: '127.0.0.1', MODELS_DIR: repoPath('models'), STORAGE_DIR: storage, MAX_BATCH_SIZE: '64', MAX_BATCH_DELAY_MS: '1500' });
    try {
      const url = await waitFor('the listening line', () => worker.lines.find((l) => l.msg === 'listening')?.url as string | undefined);
      await waitFor('ready', () => worker.lines.find((l) => l.msg === 'ready'));
      const manifest = await waitFor('readyz', async () => {
        const r = await fetch(`${url}/readyz`);
        return r.status === 200 ? ((await r.json()) as { models: { id: string; version: string }[] }).models[0] : undefined;
      });
      const full = JSON.parse(readFileSync(repoPath(`models/${manifest.id}/model.json`), 'utf8')) as ModelManifest;
      const work = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => workRequest(full, { seed: 777 + seed, class: seed })));
      const responses = work.map((w) => generate(url, w));
      await waitFor('six queued requests', async () => ((await metric(url, 'imf_worker_queue_depth', { model: manifest.id })) === 6 ? true : undefined));

      worker.child.kill('SIGTERM');
      await waitFor('the draining line', () => worker.lines.find((l) => l.msg === 'draining'));
      // New connections are not accepted any more (a new one: fetch might reuse a kept-alive one).
      await expect(newConnectionGet(`${url}/readyz`)).rejects.toThrow();

      const answered = await Promise.all(responses);
      expect(answered.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      for (const r of answered) expect(r.headers.get('content-type')).toBe('image/png');
      expect(await worker.exit).toBe(0);
      expect(worker.lines.some((l) => l.msg === 'stopped')).toBe(true);
      for (const w of work) expect(existsSync(join(storage, w.objectKey))).toBe(true);
    } finally {
      worker.child.kill('SIGKILL');
      rmSync(storage, { recursive: true, force: true });
    }
  });
});
