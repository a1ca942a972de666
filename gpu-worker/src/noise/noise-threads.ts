// A batch's noise on every core: the inference thread splits the batch's seeds into one run per
// noise thread and copies the runs into the one tensor ONNX Runtime takes. Each image's noise is
// fillNormals of its own seed wherever it is made, so the tensor is the one a single loop would fill;
// at 256×256 RGB that loop costs several milliseconds per image, which one thread cannot keep up
// with when the GPU runs a batch in a few.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fillNormals } from './index.js';
import type { NoiseJob, NoiseReply } from './noise-thread.js';

/** The thread's entry beside this file: noise-thread.js once built; from sources, behind tsx's bootstrap. */
function threadEntry(): { url: URL; workerData?: { entry: string } } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './noise-thread.ts' : './noise-thread.js', import.meta.url);
  return fromSource ? { url: new URL('../inference/thread-from-source.mjs', import.meta.url), workerData: { entry: entry.href } } : { url: entry };
}

interface Thread {
  worker: Worker;
  jobs: Map<number, { resolve(noise: Float32Array): void; reject(error: Error): void }>;
}

export class NoiseThreads {
  private readonly threads: (Thread | undefined)[] = [];
  private nextId = 0;

  constructor(readonly size = availableParallelism()) {}

  /** B × imageSize normals, image i from seeds[i]. A single image is made here, without a thread. */
  async fill(seeds: readonly number[], imageSize: number): Promise<Float32Array> {
    const noise = new Float32Array(seeds.length * imageSize);
    if (seeds.length === 1 || this.size <= 1) {
      seeds.forEach((seed, i) => fillNormals(seed, noise, i * imageSize, imageSize));
      return noise;
    }
    const runs = Math.min(this.size, seeds.length);
    const perRun = Math.ceil(seeds.length / runs);
    const parts = [];
    for (let first = 0, t = 0; first < seeds.length; first += perRun, t++) {
      const run = seeds.slice(first, first + perRun);
      parts.push(this.send(t, run, imageSize).then((part) => noise.set(part, first * imageSize)));
    }
    await Promise.all(parts);
    return noise;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.splice(0).map((t) => t?.worker.terminate()));
  }

  private send(index: number, seeds: number[], imageSize: number): Promise<Float32Array> {
    const thread = this.threads[index] ?? this.start(index);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.jobs.set(id, { resolve, reject });
      thread.worker.postMessage({ id, seeds, imageSize } satisfies NoiseJob);
    });
  }

  private start(index: number): Thread {
    const { url, workerData } = threadEntry();
    const worker = new Worker(url, workerData ? { workerData } : {});
    const thread: Thread = { worker, jobs: new Map() };
    // Idle noise threads never keep the process alive.
    worker.unref();
    worker.on('message', (reply: NoiseReply) => {
      const job = thread.jobs.get(reply.id);
      if (!job) return;
      thread.jobs.delete(reply.id);
      if ('error' in reply) job.reject(new Error(`noise failed: ${reply.error}`));
      else job.resolve(reply.noise);
    });
    const fail = (error: Error) => {
      if (this.threads[index] === thread) delete this.threads[index];
      for (const job of thread.jobs.values()) job.reject(error);
      thread.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a noise thread exited (${code})`)));
    this.threads[index] = thread;
    return thread;
  }
}
