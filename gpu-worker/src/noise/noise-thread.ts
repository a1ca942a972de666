// One noise thread: the noise of a run of a batch's images (fillNormals, one seed each), handed back.
import { parentPort } from 'node:worker_threads';
import { fillNormals } from './index.js';

export type NoiseJob = { id: number; seeds: number[]; imageSize: number };
export type NoiseReply = { id: number; noise: Float32Array } | { id: number; error: string };

const port = parentPort!;
port.on('message', ({ id, seeds, imageSize }: NoiseJob) => {
  try {
    const noise = new Float32Array(seeds.length * imageSize);
    seeds.forEach((seed, i) => fillNormals(seed, noise, i * imageSize, imageSize));
    port.postMessage({ id, noise } satisfies NoiseReply, [noise.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message } satisfies NoiseReply);
  }
});
