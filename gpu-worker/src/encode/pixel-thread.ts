// One pixel thread: the block-mean downscale of what it is sent, off the worker's event loop.
import { parentPort } from 'node:worker_threads';
import { downscale, type ImageShape } from './scale.js';

export type PixelWork = { kind: 'downscale'; pixels: Uint8Array; shape: ImageShape; divisor: number };
export type PixelJob = { id: number; work: PixelWork };
export type PixelReply = { id: number; pixels: Uint8Array } | { id: number; error: string };

const port = parentPort!;
port.on('message', ({ id, work }: PixelJob) => {
  try {
    const out = downscale(work.pixels, work.shape, work.divisor);
    port.postMessage({ id, pixels: out } satisfies PixelReply, [out.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message } satisfies PixelReply);
  }
});
