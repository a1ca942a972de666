// A model's inference thread as the rest of the worker sees it: batches of requests in, one image
// of 8-bit pixels (H×W×C) per request out. The thread (thread.ts) owns the model's SamplerSession
// (session.ts), so ONNX Runtime's blocking run() never stalls the event loop.
import { Worker } from 'node:worker_threads';
import type { ModelFolder } from '@imf/contract/models/node';
import type { ThreadReply, ThreadRequest } from './thread.js';
import type { ExecutionProvider, SamplerOptions, SampleRequest, SessionModel } from './session.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type { ExecutionProvider, ExecutionProviderChoice, SamplerOptions, SampleRequest } from './session.js';
export { cudaProviderInstalled } from './session.js';

/** The thread's entry beside this file: thread.js once built; from sources, thread.ts behind a tsx bootstrap. */
function threadEntry(): { url: URL; entry: string } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './thread.ts' : './thread.js', import.meta.url);
  return { url: fromSource ? new URL('./thread-from-source.mjs', import.meta.url) : entry, entry: entry.href };
}

export class InferenceThread {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(pixels: Uint8Array): void; reject(error: Error): void }>();
  private failure: Error | undefined;

  private constructor(
    readonly model: ModelFolder,
    readonly executionProvider: ExecutionProvider,
    private readonly thread: Worker,
    /** Bytes per image: H × W × C. */
    readonly pixelSize: number,
  ) {
    thread.on('message', (reply: ThreadReply) => {
      if (!('id' in reply)) return;
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) waiting?.reject(new Error(reply.error));
      else waiting?.resolve(reply.pixels);
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the inference thread of ${model.manifest.id} exited (code ${code})`)));
  }

  /**
   * Opens the model's session in a new thread. 'auto' uses CUDA when the provider is installed and
   * falls back to the CPU (reported through onFallback); 'cuda' insists. Rejects when the graph is not
   * the sampler the manifest describes.
   */
  static async open(model: ModelFolder, options: SamplerOptions, onFallback?: (reason: string) => void): Promise<InferenceThread> {
    const { image, noise } = model.manifest;
    const entry = threadEntry();
    const sessionModel: SessionModel = { graphPath: model.graphPath, noiseShape: noise.shape, pixelShape: [image.height, image.width, image.channels] };
    const thread = new Worker(entry.url, { workerData: { entry: entry.entry, model: sessionModel, options } });
    const opened = await new Promise<ThreadReply>((resolve, reject) => {
      thread.once('message', resolve);
      thread.once('error', reject);
    }).catch(async (error: Error) => {
      await thread.terminate();
      throw error;
    });
    if ('type' in opened && opened.type === 'failed') {
      await thread.terminate();
      throw new Error(opened.message);
    }
    if (!('type' in opened) || opened.type !== 'opened') throw new Error('the inference thread answered out of turn');
    if (opened.fallback) onFallback?.(opened.fallback);
    return new InferenceThread(model, opened.executionProvider, thread, image.height * image.width * image.channels);
  }

  /** False once the inference thread has died: every run fails from then on. */
  get alive(): boolean {
    return this.failure === undefined;
  }

  private call(message: DistributiveOmit<ThreadRequest, 'id'>): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage({ id, ...message });
    });
  }

  /** Runs the graph on one batch: per request its H×W×C bytes. */
  async run(requests: readonly SampleRequest[]): Promise<Uint8Array[]> {
    const pixels = await this.call({ requests: [...requests] });
    return requests.map((_, i) => pixels.subarray(i * this.pixelSize, (i + 1) * this.pixelSize));
  }

  /**
   * Runs the graph once at each of its batch sizes, so that the first real request does not pay
   * for allocation and tuning (and a model's readiness means it has computed an image).
   */
  async warmUp(batchSizes: readonly number[]): Promise<void> {
    const m = this.model.manifest;
    for (const size of new Set(batchSizes)) {
      await this.run(Array.from({ length: size }, (_, i) => ({ seed: i, classIndex: i % m.classes.length, guidance: m.guidance.default, tmin: m.interval.default[0], tmax: m.interval.default[1] })));
    }
  }

  async close(): Promise<void> {
    if (!this.failure) await this.call({ close: true }).catch(() => {});
    await this.thread.terminate();
  }
}
