// The price table's measurement: milliseconds of CPU (user + system, every thread of the process,
// libvips' included) to encode and mark one image, per format, at output sizes 28, 64, 256, 512 and
// 1024 pixels, through the worker's own encoder and marking. It prints the table and the machine,
// and writes contract/src/price-table.ts, which the edge prices generations by (contract/src/price.ts).
//
//   npm run bench:prices [-- --repeats 5] [-- --dry-run]
//
// The pixels are a 3-channel photo-like pattern (smooth shapes plus a little grain) at full size,
// the costlier case: a grayscale model's images and upscaled ones encode faster.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { IMAGE_FORMATS, type ImageFormat } from '@imf/contract';
import { encodeImage } from '../src/encode/index.js';
import { markImage } from '../src/encode/xmp.js';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '5' }, 'dry-run': { type: 'boolean', default: false } } });
const repeats = Number(values.repeats);
const SIZES = [28, 64, 256, 512, 1024];
const CHANNELS = 3;

function photoLike(size: number): Uint8Array {
  const out = new Uint8Array(size * size * CHANNELS);
  let state = 12345;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < CHANNELS; c++) {
        state = (state * 1103515245 + 12345) >>> 0;
        const u = (x * 28) / size;
        const v = (y * 28) / size;
        const smooth = 128 + 70 * Math.sin(u / 2.7 + c) * Math.cos(v / 3.1 - c) + 30 * Math.sin((u + v) / 1.3);
        out[(y * size + x) * CHANNELS + c] = Math.max(0, Math.min(255, Math.round(smooth + ((state >>> 24) % 13) - 6)));
      }
    }
  }
  return out;
}

/** CPU milliseconds of one encode + mark, the median of `repeats` runs (ten times as many below 256 pixels) after warm-up. */
async function cpuMs(pixels: Uint8Array, size: number, format: ImageFormat): Promise<number> {
  const runsWanted = size < 256 ? repeats * 10 : repeats;
  const shape = { channels: CHANNELS, height: size, width: size };
  const once = async () => markImage(await encodeImage(pixels, shape, { format, size }), format, { model: 'bench', version: '0', parameters: { seed: 1 } });
  for (let i = 0; i < (size < 256 ? 5 : 1); i++) await once();
  const runs: number[] = [];
  for (let i = 0; i < runsWanted; i++) {
    const before = process.cpuUsage();
    await once();
    const used = process.cpuUsage(before);
    runs.push((used.user + used.system) / 1000);
  }
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`;
console.log(`# encode + mark CPU per image (ms, median of ${repeats}, of ${repeats * 10} below 256 px), ${CHANNELS} channels; ${machine}`);
console.log(`| size | ${IMAGE_FORMATS.join(' | ')} |`);
console.log(`| --- | ${IMAGE_FORMATS.map(() => '---').join(' | ')} |`);
const table: Record<string, [number, number][]> = Object.fromEntries(IMAGE_FORMATS.map((f) => [f, []]));
for (const size of SIZES) {
  const pixels = photoLike(size);
  const row: number[] = [];
  for (const format of IMAGE_FORMATS) {
    const ms = Math.round((await cpuMs(pixels, size, format)) * 100) / 100;
    table[format]!.push([size * size, ms]);
    row.push(ms);
  }
  console.log(`| ${size} | ${row.join(' | ')} |`);
}

const file = fileURLToPath(new URL('../../contract/src/price-table.ts', import.meta.url));
const text = `// Written by \`npm run bench:prices\` (gpu-worker/bench/prices.ts); do not edit by hand. Milliseconds of
// worker CPU to encode and mark one ${CHANNELS}-channel image, per format, at [output pixels, ms] points.
// Measured on: ${machine}, ${new Date().toISOString().slice(0, 10)}.
import type { ImageFormat } from './request.js';

export const ENCODE_CPU_MS: Readonly<Record<ImageFormat, readonly (readonly [pixels: number, ms: number])[]>> = {
${IMAGE_FORMATS.map((f) => `  ${f}: [${table[f]!.map(([p, ms]) => `[${p}, ${ms}]`).join(', ')}],`).join('\n')}
};
`;
if (values['dry-run']) console.log(`\n(dry run: ${file} not written)`);
else {
  writeFileSync(file, text);
  console.log(`\nwrote ${file}`);
}
