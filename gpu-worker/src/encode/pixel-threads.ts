// The pixel threads (pixel-thread.ts): as many as the machine has cores, started when first needed
// and never holding the process open while idle, each taking the next job when it has the fewest in
// hand. A job's input is copied once and moved over (the caller keeps its own, which may be a view
// of a whole batch); the result comes back without a copy.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PixelJob, PixelReply, PixelWork } from './pixel-thread.js';

/** The thread's entry beside this file: pixel-thread.js once built; from sources, behind tsx's bootstrap. */
function threadEntry(): { url: URL; workerData?: { entry: string } } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './pixel-thread.ts' : './pixel-thread.js', import.meta.url);
  return fromSource ? { url: new URL('../inference/thread-from-source.mjs', import.meta.url), workerData: { entry: entry.href } } : { url: entry };
}

interface Thread {
  worker: Worker;
  jobs: Map<number, { resolve(pixels: Uint8Array): void; reject(error: Error): void }>;
}

export class PixelThreads {
  private readonly threads: Thread[] = [];
  private nextId = 0;

  constructor(readonly size = availableParallelism()) {}

  run(work: PixelWork): Promise<Uint8Array> {
    const thread = this.pick();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.jobs.set(id, { resolve, reject });
      if (thread.jobs.size === 1) thread.worker.ref();
      // A view of a batch's buffer would clone the whole buffer: send a copy of the view alone.
      const input = work.pixels.slice();
      const sent: PixelWork = { ...work, pixels: input };
      thread.worker.postMessage({ id, work: sent } satisfies PixelJob, [input.buffer as ArrayBuffer]);
    });
  }

  /** Stops every thread; later jobs start new ones. */
  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  /** An idle thread, a new one while there are fewer than `size`, else the one with the fewest jobs. */
  private pick(): Thread {
    const idle = this.threads.find((t) => t.jobs.size === 0);
    if (idle) return idle;
    if (this.threads.length < this.size) return this.start();
    return this.threads.reduce((best, t) => (t.jobs.size < best.jobs.size ? t : best));
  }

  private start(): Thread {
    const { url, workerData } = threadEntry();
    const worker = new Worker(url, workerData ? { workerData } : {});
    const thread: Thread = { worker, jobs: new Map() };
    worker.unref();
    worker.on('message', (reply: PixelReply) => {
      const job = thread.jobs.get(reply.id);
      if (!job) return;
      thread.jobs.delete(reply.id);
      if (thread.jobs.size === 0) worker.unref();
      if ('error' in reply) job.reject(new Error(`pixel work failed: ${reply.error}`));
      else job.resolve(reply.pixels);
    });
    const fail = (error: Error) => {
      const at = this.threads.indexOf(thread);
      if (at >= 0) this.threads.splice(at, 1);
      for (const job of thread.jobs.values()) job.reject(error);
      thread.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a pixel thread exited (${code})`)));
    this.threads.push(thread);
    return thread;
  }
}
