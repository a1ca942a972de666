// One downscale thread: block means of the pixels it is sent (scale.ts), off the worker's event loop.
import { parentPort } from 'node:worker_threads';
import { downscale, type ImageShape } from './scale.js';

export type DownscaleJob = { id: number; pixels: Uint8Array; shape: ImageShape; divisor: number };
export type DownscaleReply = { id: number; pixels: Uint8Array } | { id: number; error: string };

const port = parentPort!;
port.on('message', ({ id, pixels, shape, divisor }: DownscaleJob) => {
  try {
    const out = downscale(pixels, shape, divisor);
    port.postMessage({ id, pixels: out } satisfies DownscaleReply, [out.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message } satisfies DownscaleReply);
  }
});
