// The host-ceiling benchmark (`npm run bench:stack -- --model DIR`): the default stack (SeaweedFS,
// one worker, the Node edge) serving one model folder alone, under cache misses for PNG, WebP and
// JPEG at 256, 512 and 1024 px, each phase against the worker's own encoder alone on the same
// pixels using every core (the ceiling the stack should approach). Meant for the bench-only folder
// test/load/host-ceiling/build_model.py makes, whose inference costs next to nothing, so what is
// measured is the host side: noise, HTTP, encoding, storage.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { allowedSizes, canonicalPath, defaultQuality, IMAGE_FORMATS, type ImageFormat, type ImageRequest, type ModelManifest } from '@imf/contract';
import { measureEncoderCeiling } from '../../../gpu-worker/bench/encoder-ceiling.js';
import { startTestStack } from '../../e2e/support/stack.js';
import { describeMachine } from '../machine.js';
import { cannon, cpuMeters, mainThread, others, settle } from '../stack-phases.js';
import { printTable } from '../table.js';

/** The sizes measured: the issue's 256, 512 and 1024, where the model allows them. */
const SIZES = [256, 512, 1024];

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`);

const repoRoot = join(import.meta.dirname, '..', '..', '..');

/** `--model host-ceiling`: the bench-only folder, built now into a temporary folder. */
function buildBenchModel(into: string): string {
  const dir = join(into, 'bench-host-ceiling');
  const result = spawnSync(join(repoRoot, '.venv', 'bin', 'python'), [join(import.meta.dirname, 'build_model.py'), dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the bench-only model failed: ${result.stderr}`);
  return dir;
}

export async function runHostCeiling(modelDir: string, options: { seconds: number; concurrency: number; quick: boolean; sizes?: number[] }): Promise<void> {
  const built = modelDir === 'host-ceiling' ? mkdtempSync(join(tmpdir(), 'imf-bench-model-')) : undefined;
  const dir = built ? buildBenchModel(built) : resolve(modelDir);
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelManifest;
  // The stack serves a folder holding this model alone: the edge lists nothing else.
  const modelsDir = mkdtempSync(join(tmpdir(), 'imf-host-ceiling-'));
  symlinkSync(dir, join(modelsDir, basename(dir)));
  // Thousands of 10–340 KB images: SeaweedFS gets room for them (the stack's default is 256 MB).
  process.env.SEAWEEDFS_VOLUME_MAX ??= '96';
  const stack = await startTestStack({ modelsDir, env: { RATE_LIMIT_PER_MINUTE: '10000000', RATE_LIMIT_BURST: '1000000' } });
  try {
    const worker = stack.workers[0]!.url;
    const seedBase = Math.floor(Math.random() * 1_000_000_000);
    const request = (seed: number, format: ImageFormat, size: number): ImageRequest => ({
      model: manifest.id,
      class: seed % manifest.classes.length,
      guidance: manifest.guidance.default,
      tmin: manifest.interval.default[0],
      tmax: manifest.interval.default[1],
      seed: seedBase + seed,
      format,
      size,
      ...defaultQuality(format),
    });
    const sizes = (options.sizes ?? SIZES).filter((s) => allowedSizes(manifest).includes(s));
    if (sizes.length === 0) throw new Error(`the model allows none of the sizes asked for (it allows ${allowedSizes(manifest).join(', ')})`);

    console.log(`# host-ceiling benchmark${options.quick ? ' (--quick: short phases, rough numbers)' : ''}`);
    console.log(`machine: ${describeMachine()}`);
    console.log(`stack: SeaweedFS, 1 worker, Node edge; model ${manifest.id} ${manifest.version} (${dir}); ${options.seconds} s per phase, concurrency ${options.concurrency}`);

    // The pixels both sides encode: one generated image, read back as raw RGB at the native size.
    let next = 0;
    const sample = await fetch(new URL(canonicalPath(request(next++, 'png', manifest.image.width)), stack.url), { headers: { authorization: `Bearer ${stack.apiKey}` } });
    if (sample.status !== 200) throw new Error(`the stack answered ${sample.status} for the sample image: ${await sample.text()}`);
    const pixels = new Uint8Array(await sharp(Buffer.from(await sample.arrayBuffer())).raw().toBuffer());
    const shape = { channels: manifest.image.channels, height: manifest.image.height, width: manifest.image.width };

    // Warm-up: the worker's JIT, the edge's connections, SeaweedFS's first volume.
    const warm = (i: number) => canonicalPath(request(i, IMAGE_FORMATS[i % IMAGE_FORMATS.length]!, sizes[i % sizes.length]!));
    next = (await cannon(stack.url, stack.apiKey, warm, Math.max(2, Math.round(options.seconds / 3)), options.concurrency, next)).next;
    await settle();

    const meters = cpuMeters(stack);
    const rows: (string | number)[][] = [];
    for (const format of IMAGE_FORMATS) {
      for (const size of sizes) {
        const path = (i: number) => canonicalPath(request(i, format, size));
        const threadBefore = await mainThread(worker); // starts the event-loop window
        const cpuBefore = meters.map((m) => m.seconds());
        const misses = await cannon(stack.url, stack.apiKey, path, options.seconds, options.concurrency, next);
        const cpuAfter = meters.map((m) => m.seconds());
        const loop = await mainThread(worker);
        const gc = { seconds: loop.gc.seconds - threadBefore.gc.seconds, pauses: loop.gc.pauses - threadBefore.gc.pauses, over10ms: loop.gc.over10ms - threadBefore.gc.over10ms };
        next = misses.next;
        await settle();
        const alone = await measureEncoderCeiling(pixels, shape, { format, size, ...defaultQuality(format) }, { seconds: Math.max(2, options.seconds / 2) });
        const cpuPerImage = meters.map((_, i) => ((1000 * (cpuAfter[i]! - cpuBefore[i]!)) / Math.max(1, misses.ok)).toFixed(1));
        rows.push([
          `${format}${'quality' in defaultQuality(format) ? ` q${defaultQuality(format).quality}` : ''}`,
          size,
          Math.round(misses.perSecond),
          Math.round(alone.imagesPerSecond),
          `${Math.round((100 * misses.perSecond) / alone.imagesPerSecond)}%`,
          ms(misses.p50),
          ms(misses.p99),
          ...cpuPerImage,
          alone.cpuMsPerImage.toFixed(1),
          loop.delayP99Ms === undefined ? '–' : ms(loop.delayP99Ms),
          loop.utilization === undefined ? '–' : `${Math.round(100 * loop.utilization)}%`,
          ((1000 * gc.seconds) / Math.max(1, misses.ok)).toFixed(2),
          `${gc.over10ms} of ${gc.pauses}`,
          (alone.bytes / 1024).toFixed(1),
          others(misses.other),
        ]);
        console.log(`  ${format} ${size}: ${Math.round(misses.perSecond)} misses/s, encoder alone ${Math.round(alone.imagesPerSecond)}/s`);
      }
    }
    printTable(
      `Cache misses through the stack vs the encoder alone on the same pixels, concurrency ${options.concurrency} (${describeMachine()})`,
      [
        'format',
        'size',
        'misses/s',
        'encoder alone/s',
        'share',
        'p50',
        'p99',
        ...meters.map((m) => `CPU ms/img ${m.name.replace(/ \(.*\)$/, '')}`),
        'CPU ms/img encoder alone',
        'worker loop delay p99',
        'worker loop busy',
        'worker GC ms/img',
        'worker GC pauses > 10 ms',
        'KiB',
        'other answers',
      ],
      rows,
    );
  } finally {
    await stack.cleanup();
    rmSync(modelsDir, { recursive: true, force: true });
    if (built) rmSync(built, { recursive: true, force: true });
  }
}
