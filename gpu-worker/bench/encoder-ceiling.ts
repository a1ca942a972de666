// The encoder alone, the ceiling a served stack is compared with: the worker's own encodeImage on
// the same pixels, as many images at once as the machine has libuv threads (this process sizes the
// pool like the worker does), for a few seconds; images per second and CPU per image.
import '../src/encode/thread-pool-size.js';
import { availableParallelism } from 'node:os';
import { encodeImage, type EncodeTarget, type ImageShape } from '../src/encode/index.js';

export interface EncoderCeiling {
  imagesPerSecond: number;
  cpuMsPerImage: number;
  bytes: number;
}

export async function measureEncoderCeiling(pixels: Uint8Array, shape: ImageShape, target: EncodeTarget, options: { seconds: number; concurrency?: number }): Promise<EncoderCeiling> {
  const concurrency = options.concurrency ?? Number(process.env.UV_THREADPOOL_SIZE ?? availableParallelism());
  let bytes = 0;
  for (let i = 0; i < 3; i++) bytes = (await encodeImage(pixels, shape, target)).byteLength; // warm-up
  const deadline = performance.now() + options.seconds * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let images = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await encodeImage(pixels, shape, target);
        images++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { imagesPerSecond: images / elapsed, cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images, bytes };
}
