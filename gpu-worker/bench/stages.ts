// The stage benchmark of one model folder, through the worker's own inference thread (the code that
// serves it): images/s of the generator alone, the decoder alone and both end to end, at each batch
// size, and the encode cost of one image per format. Prints small tables and the machine.
//
//   npm run bench:stages -- --model ../models/imf-b2-in256 [--batches 1,8,32] [--decoder-batches 1,8] [--repeats 3]
//   EXECUTION_PROVIDER=cuda npm run bench:stages -- --model DIR       # on a GPU (the gpu.Dockerfile image)
//
// On a CPU a VAE decoder takes seconds per image: the decoder (and end to end) runs only at the
// batches in --decoder-batches (default: up to 8 on a CPU, all on CUDA); the table says where not.
import { basename, resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { allowedSizes, IMAGE_FORMATS, summarize } from '@imf/contract';
import { encodeImage, toPixels } from '../src/encode/index.js';
import { InferenceThread, type ExecutionProviderChoice, type SampleRequest } from '../src/inference/inference-thread.js';
import { inspectModelFolder } from '../src/models/discover.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    batches: { type: 'string', default: '1,8,32' },
    'decoder-batches': { type: 'string' },
    repeats: { type: 'string', default: '3' },
  },
});
if (!values.model) throw new Error('--model DIR: a model folder (with model.json)');
const dir = resolve(values.model);
const inspected = await inspectModelFolder(dir, basename(dir));
if (!('manifest' in inspected)) throw new Error(`${dir}: ${inspected.reason}`);
const m = inspected.manifest;
const batches = values.batches.split(',').map(Number);
const repeats = Number(values.repeats);
const threads = Number(process.env.INTRA_OP_THREADS ?? cpus().length);
const provider = (process.env.EXECUTION_PROVIDER ?? 'auto') as ExecutionProviderChoice;

const thread = await InferenceThread.open(inspected, { executionProvider: provider, intraOpThreads: threads, interOpThreads: 1 });
const onCpu = thread.executionProvider === 'cpu';
const decoderBatches = values['decoder-batches'] ? values['decoder-batches'].split(',').map(Number) : batches.filter((b) => !onCpu || b <= 8);
console.log(`# stage benchmark: ${m.id} (${m.version}), ${thread.decodes ? 'generator + decoder' : 'one stage'}, ${m.image.width}×${m.image.height}×${m.image.channels}`);
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
  const generatorMs = await time(() => thread.run(batch));
  let decoderCells = ['—', '—', '—', '—'];
  if (thread.decodes && decoderBatches.includes(b)) {
    const latents = (await thread.run(batch)).map((l) => l.slice());
    const decoderMs = await time(() => thread.decode(latents));
    const endToEndMs = await time(async () => thread.decode(await thread.run(batch)));
    decoderCells = [decoderMs.toFixed(0), rate(b, decoderMs), endToEndMs.toFixed(0), rate(b, endToEndMs)];
  } else if (!thread.decodes) decoderCells = ['', '', generatorMs.toFixed(0), rate(b, generatorMs)];
  rows.push([String(b), generatorMs.toFixed(0), rate(b, generatorMs), ...decoderCells]);
  console.error(`batch ${b} done`);
}

const header = ['batch', 'generator ms', 'gen img/s', 'decoder ms', 'dec img/s', 'end to end ms', 'e2e img/s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
console.log(`\n| ${header.map((h, i) => h.padStart(widths[i]!)).join(' | ')} |\n|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
for (const r of rows) console.log(`| ${r.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`);
if (thread.decodes && batches.some((b) => !decoderBatches.includes(b))) console.log(`(— : decoder not run at this batch on ${thread.executionProvider}; --decoder-batches to force)`);

// Encode cost of one image at the native size and the largest served size, per format.
const [first] = await thread.run(requests(1));
const pixels = thread.decodes ? (await thread.decode([first!]))[0]! : toPixels(first!, m.image);
const sizes = [m.image.width, Math.max(...allowedSizes(summarize(m)))];
const encodeRows: string[] = [];
for (const format of IMAGE_FORMATS) {
  for (const size of sizes) {
    await encodeImage(pixels, m.image, { format, size });
    const started = performance.now();
    const body = await encodeImage(pixels, m.image, { format, size });
    encodeRows.push(`| ${format} ${size}×${size} | ${(performance.now() - started).toFixed(1)} | ${body.byteLength} |`);
  }
}
console.log(`\n| encode | ms | bytes |\n|---|---:|---:|\n${encodeRows.join('\n')}`);
await thread.close();
