// One pixel thread: the float-to-8-bit rounding and the block-mean downscale of what it is sent,
// off the worker's event loop.
import { parentPort } from 'node:worker_threads';
import { downscale, type ImageShape } from './scale.js';
import { toPixels } from './to-pixels.js';

export type PixelWork = { kind: 'to-pixels'; image: Float32Array; shape: ImageShape } | { kind: 'downscale'; pixels: Uint8Array; shape: ImageShape; divisor: number };
export type PixelJob = { id: number; work: PixelWork };
export type PixelReply = { id: number; pixels: Uint8Array } | { id: number; error: string };

const port = parentPort!;
port.on('message', ({ id, work }: PixelJob) => {
  try {
    const out = work.kind === 'to-pixels' ? toPixels(work.image, work.shape) : downscale(work.pixels, work.shape, work.divisor);
    port.postMessage({ id, pixels: out } satisfies PixelReply, [out.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message } satisfies PixelReply);
  }
});
