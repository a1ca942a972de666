// The model benchmark of one model folder, through the worker's own inference thread (the code that
// serves it): images/s of its graph (noise to 8-bit pixels; a latent model's VAE decoder inside)
// at each batch size, and the encode cost of one image per format. Prints small tables and the machine.
//
//   npm run bench:model -- --model ../models/imf-b2-in256 [--batches 1,8,32] [--repeats 3]
//   EXECUTION_PROVIDER=cuda npm run bench:model -- --model DIR       # on a GPU (the gpu.Dockerfile image)
import { resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { allowedSizes, IMAGE_FORMATS, summarize } from '@imf/contract';
import { encodeImage } from '../src/encode/index.js';
import { InferenceThread, type ExecutionProviderChoice, type SampleRequest } from '../src/inference/inference-thread.js';
import { checkModelFiles, readModelFolder } from '@imf/contract/models/node';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    batches: { type: 'string', default: '1,8,32' },
    repeats: { type: 'string', default: '3' },
  },
});
if (!values.model) throw new Error('--model DIR: a model folder (with model.json)');
const dir = resolve(values.model);
const inspected = readModelFolder(dir);
if (!('manifest' in inspected)) throw new Error(`${dir}: ${inspected.reason}`);
const problem = await checkModelFiles(inspected);
if (problem) throw new Error(`${dir}: ${problem}`);
const m = inspected.manifest;
const batches = values.batches.split(',').map(Number);
const repeats = Number(values.repeats);
const threads = Number(process.env.INTRA_OP_THREADS ?? cpus().length);
const provider = (process.env.EXECUTION_PROVIDER ?? 'auto') as ExecutionProviderChoice;

const thread = await InferenceThread.open(inspected, { executionProvider: provider, intraOpThreads: threads, interOpThreads: 1 });
console.log(`# model benchmark: ${m.id} (${m.version}), ${m.nfe}-NFE, noise ${m.noise.shape.join('×')} → ${m.image.width}×${m.image.height}×${m.image.channels} pixels`);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`node ${process.version}, onnxruntime-node ${ort.env.versions.node}, ${thread.executionProvider} EP, ${threads} intra-op thread(s), median of ${repeats} run(s) after one warm-up`);

const requests = (n: number): SampleRequest[] =>
  Array.from({ length: n }, (_, i) => ({ seed: i, classIndex: i % m.classes.length, guidance: m.guidance.default, tmin: m.interval.default[0], tmax: m.interval.default[1] }));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(run: () => Promise<unknown>): Promise<number> {
  await run(); // warm-up: allocation and kernel choice at this shape
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await run();
    ms.push(performance.now() - started);
  }
  return median(ms);
}

const rows: string[][] = [];
const rate = (b: number, ms: number) => ((b * 1000) / ms).toFixed(b * 1000 < ms ? 3 : 1);
for (const b of batches) {
  const batch = requests(b);
  const ms = await time(() => thread.run(batch));
  rows.push([String(b), ms.toFixed(0), rate(b, ms)]);
  console.error(`batch ${b} done`);
}

const header = ['batch', 'ms / batch', 'images/s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
console.log(`\n| ${header.map((h, i) => h.padStart(widths[i]!)).join(' | ')} |\n|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
for (const r of rows) console.log(`| ${r.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`);

// Encode cost of one image at the native size and the largest served size, per format.
const [pixels] = await thread.run(requests(1));
const sizes = [m.image.width, Math.max(...allowedSizes(summarize(m)))];
const encodeRows: string[] = [];
for (const format of IMAGE_FORMATS) {
  for (const size of sizes) {
    await encodeImage(pixels!, m.image, { format, size });
    const started = performance.now();
    const body = await encodeImage(pixels!, m.image, { format, size });
    encodeRows.push(`| ${format} ${size}×${size} | ${(performance.now() - started).toFixed(1)} | ${body.byteLength} |`);
  }
}
console.log(`\n| encode | ms | bytes |\n|---|---:|---:|\n${encodeRows.join('\n')}`);
await thread.close();
