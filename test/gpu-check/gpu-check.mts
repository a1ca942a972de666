// `npm run gpu:check`: does the CUDA path work on this machine, and how fast? With no network:
// imports a random-weight model here (`npm run model:import -- --random B/2`, or --tiny), serves it
// through the real worker (gpu-worker from its sources, files for storage) with
// EXECUTION_PROVIDER=cuda, and prints one table: images/s at batch 1, 8, 32 and 64 (that many
// concurrent requests, which the worker's batcher joins), time to ready and to the first image, GPU
// memory (nvidia-smi, where present), and the pixel difference from a CPU-provider worker on the
// model's reference requests. Exits 1 when a request fails, the worker runs on another provider
// than asked, or (CPU against CPU) the pixels differ at all.
// Flags: --tiny (the importer's tiny model: seconds, for tests), --size B/2|XL/2, --provider cuda|cpu,
// --precision fp32|fp16 (the import's: fp16 runs the network and decoder in float16, and the table adds
// its pixel difference from float32 as the import measured it),
// --batches 1,8,32,64, --rounds N (per batch size, default 5), --model DIR (serve an import made
// before instead of importing), --quick (rounds 2; what npm test runs: --tiny --provider cpu --quick),
// --import-to DIR (only import, into DIR, and exit: infra/gpu-host/run.sh stage starts it in the
// background while the CUDA provider is still on its way, and check serves it with --model DIR).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { quantize, WORKER_GENERATE_PATH, WORKER_SECRET_HEADER, type ImageRequest, type ModelManifest } from '@imf/contract';
// @ts-expect-error plain ESM without types
import { startWorker } from '../../infra/local/workers.mjs';
import { printTable } from '../load/table.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const { values: flags } = parseArgs({
  options: {
    tiny: { type: 'boolean' },
    size: { type: 'string', default: 'B/2' },
    provider: { type: 'string', default: 'cuda' },
    precision: { type: 'string', default: 'fp32' },
    batches: { type: 'string', default: '1,8,32,64' },
    rounds: { type: 'string' },
    model: { type: 'string' },
    quick: { type: 'boolean' },
    'import-to': { type: 'string' },
  },
});
if (!['cuda', 'cpu'].includes(flags.provider!)) throw new Error(`--provider is cuda or cpu, not ${flags.provider}`);
const provider = flags.provider as 'cuda' | 'cpu';
if (!['fp32', 'fp16'].includes(flags.precision!)) throw new Error(`--precision is fp32 or fp16, not ${flags.precision}`);
const batches = flags.batches!.split(',').map(Number);
const rounds = Number(flags.rounds ?? (flags.quick ? 2 : 5));
const SECRET = 'gpu-check-secret-of-some-length';
const work = mkdtempSync(join(tmpdir(), 'imf-gpu-check-'));
const problems: string[] = [];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The model folder: an import made here now (random weights), or the one --model names. */
function importModel(): { dir: string; importMs: number } {
  if (flags.model) return { dir: flags.model, importMs: 0 };
  const dir = flags['import-to'] ?? join(work, 'models', (flags.tiny ? 'imf-check-tiny' : `imf-check-${flags.size!.toLowerCase().replace('/', '')}`) + `-${flags.precision}`);
  const args = ['-m', 'imf.export.import_official', ...(flags.tiny ? ['--tiny'] : ['--random', flags.size!]), '--precision', flags.precision!, '--out', dir, '--quiet', '--grid-classes', '207', '--grid-seeds', '0'];
  const started = performance.now();
  const result = spawnSync(join(repoRoot, '.venv', 'bin', 'python'), args, { cwd: join(repoRoot, 'models'), env: { ...process.env, PYTHONPATH: '.' }, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (result.status !== 0) throw new Error(`the import failed (${result.status}): ${result.stderr}`);
  return { dir, importMs: performance.now() - started };
}

/** One worker serving `modelsDir`, with files for storage. */
async function worker(modelsDir: string, executionProvider: string, name: string) {
  const started = performance.now();
  const storage = { kind: 'fs', dir: join(work, `images-${name}`) };
  const env = { ...process.env, EXECUTION_PROVIDER: executionProvider, MAX_BATCH_SIZE: String(Math.max(...batches)), MAX_QUEUE: '4096', REQUEST_TIMEOUT_MS: '600000', SHED_AFTER_MS: '600000' };
  const running = await startWorker({ repoRoot, index: name, modelsDir, secret: SECRET, storage, env, quiet: true });
  return { ...running, readyMs: performance.now() - started };
}

async function generate(url: string, request: ImageRequest, version: string): Promise<Uint8Array> {
  const response = await fetch(url + WORKER_GENERATE_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: SECRET },
    body: JSON.stringify({ request, modelVersion: version }),
  });
  const body = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`the worker answered ${response.status}: ${new TextDecoder().decode(body).slice(0, 300)}`);
  return body;
}

/** GPU memory in use, from nvidia-smi where there is one. */
function gpuMemory(): string {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=index,memory.used,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 })
      .trim()
      .split('\n')
      .map((line) => `GPU ${line.trim()}`)
      .join('; ');
  } catch {
    return 'n/a (no nvidia-smi)';
  }
}

async function rawPixels(png: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).raw().toBuffer());
}

if (flags['import-to']) {
  const { dir, importMs } = importModel();
  console.log(`imported ${flags.tiny ? 'tiny' : flags.size} ${flags.precision} to ${dir} in ${seconds(importMs)}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

const services: { service: { stop(): Promise<unknown> } }[] = [];
try {
  const { dir, importMs } = importModel();
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelManifest;
  const precision = manifest.precision ?? { compute: 'float32' };
  const float16 = precision.against_float32;
  const modelsDir = join(dir, '..');
  let nextSeed = 1;
  const request = (seed: number, fields: Partial<ImageRequest> = {}): ImageRequest => ({
    model: manifest.id,
    class: seed % manifest.classes.length,
    guidance: manifest.guidance.default,
    tmin: manifest.interval.default[0],
    tmax: manifest.interval.default[1],
    seed,
    format: 'png',
    size: manifest.image.width,
    ...fields,
  });

  const served = await worker(modelsDir, provider, 'check');
  services.push(served);
  const ready = (await (await fetch(`${served.url}/readyz`)).json()) as { models: { id: string; executionProvider: string }[] };
  const actual = ready.models.find((m) => m.id === manifest.id)?.executionProvider;
  if (actual !== provider) problems.push(`the worker runs the model on ${actual ?? 'nothing'}, not ${provider}`);

  const firstStarted = performance.now();
  await generate(served.url, request(nextSeed++), manifest.version);
  const firstMs = performance.now() - firstStarted;

  const rows: (string | number)[][] = [];
  for (const batch of batches) {
    await Promise.all(Array.from({ length: batch }, () => generate(served.url, request(nextSeed++), manifest.version))); // warm this batch size
    const started = performance.now();
    for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: batch }, () => generate(served.url, request(nextSeed++), manifest.version)));
    const elapsed = performance.now() - started;
    rows.push([`batch ${batch} (${batch} concurrent requests × ${rounds})`, ((batch * rounds * 1000) / elapsed).toFixed(1), `${(elapsed / rounds).toFixed(0)} ms`]);
  }
  const memory = gpuMemory();

  // The pixel difference from the CPU provider on the model's reference requests.
  const reference = JSON.parse(readFileSync(join(dir, manifest.reference ?? 'reference.json'), 'utf8')) as { requests: { seed: number; class: number; guidance: number; t_min: number; t_max: number }[] };
  const checks = reference.requests.slice(0, 4).map((r) => request(r.seed, { class: r.class, guidance: quantize(r.guidance), tmin: quantize(r.t_min), tmax: quantize(r.t_max) }));
  const cpu = await worker(modelsDir, 'cpu', 'cpu-reference');
  services.push(cpu);
  let maxDiff = 0;
  let differing = 0;
  let values = 0;
  for (const check of checks) {
    const [mine, theirs] = await Promise.all([generate(served.url, check, manifest.version).then(rawPixels), generate(cpu.url, check, manifest.version).then(rawPixels)]);
    for (let i = 0; i < mine.length; i++) {
      const diff = Math.abs(mine[i]! - theirs[i]!);
      maxDiff = Math.max(maxDiff, diff);
      if (diff > 0) differing++;
    }
    values += mine.length;
  }
  if (provider === 'cpu' && maxDiff !== 0) problems.push(`two CPU workers gave different pixels (max difference ${maxDiff})`);

  printTable(
    `gpu:check — ${manifest.id} (${flags.tiny ? 'tiny' : flags.model ? dir : flags.size}, random weights, ${manifest.image.width}×${manifest.image.height}, ${precision.compute}) on ${provider}`,
    ['what', 'value', 'per round'],
    [
      ['import (on this machine)', importMs ? seconds(importMs) : 'given (--model)', ''],
      ['worker start to ready (load, warm-up)', seconds(served.readyMs), ''],
      ['first image after ready', `${firstMs.toFixed(0)} ms`, ''],
      ...rows.map(([what, perSecond, perRound]) => [`images/s, ${what}`, perSecond!, perRound!]),
      ['GPU memory (nvidia-smi)', memory, ''],
      [`pixels vs the CPU provider (${checks.length} reference requests)`, `largest difference ${maxDiff} levels, ${((100 * differing) / Math.max(1, values)).toFixed(3)}% of values differ`, ''],
      ...(float16 ? [[`${precision.compute} vs float32 at import (CPU, ${float16.requests} reference requests)`, `largest difference ${float16.max} levels, ${(100 * float16.share).toFixed(3)}% of values differ, mean ${float16.mean_abs} levels, PSNR ${float16.psnr_db ?? '∞'} dB`, '']] : []),
    ],
  );
} catch (error) {
  problems.push((error as Error).message);
} finally {
  await Promise.all(services.map((s) => s.service.stop()));
  rmSync(work, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`\ngpu:check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
