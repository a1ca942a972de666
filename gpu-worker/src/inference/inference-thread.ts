// A model's inference thread as the rest of the worker sees it: batches of requests in, one image
// (or, for a latent model, one latent) of floats per request out; and batches of latents in, one
// image of 8-bit pixels per latent out. The thread (thread.ts) owns the model's SamplerSession
// (session.ts), so ONNX Runtime's blocking run() never stalls the event loop.
import { Worker } from 'node:worker_threads';
import type { DiscoveredModel } from '../models/discover.js';
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
  private readonly pending = new Map<number, { resolve(images: Float32Array | Uint8Array): void; reject(error: Error): void }>();
  private failure: Error | undefined;

  private constructor(
    readonly model: DiscoveredModel,
    readonly executionProvider: ExecutionProvider,
    private readonly thread: Worker,
    /** Floats per generator output: C × H × W. */
    readonly imageSize: number,
    /** Bytes per decoded image (H × W × C), for a latent model. */
    readonly pixelSize: number | undefined,
  ) {
    thread.on('message', (reply: ThreadReply) => {
      if (!('id' in reply)) return;
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) waiting?.reject(new Error(reply.error));
      else waiting?.resolve(reply.images);
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
  static async open(model: DiscoveredModel, options: SamplerOptions, onFallback?: (reason: string) => void): Promise<InferenceThread> {
    const { image, noise } = model.manifest;
    const entry = threadEntry();
    const chw = noise.shape;
    const sessionModel: SessionModel = {
      onnxPath: model.onnxPath,
      chw,
      output: model.decoderPath ? 'latent' : 'image',
      ...(model.decoderPath ? { decoder: { onnxPath: model.decoderPath, hwc: [image.height, image.width, image.channels] } } : {}),
    };
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
    return new InferenceThread(model, opened.executionProvider, thread, chw[0] * chw[1] * chw[2], model.decoderPath ? image.height * image.width * image.channels : undefined);
  }

  /** False once the inference thread has died: every run fails from then on. */
  get alive(): boolean {
    return this.failure === undefined;
  }

  private call(message: DistributiveOmit<ThreadRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<Float32Array | Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Float32Array | Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage({ id, ...message }, transfer);
    });
  }

  /** Whether the model has a decoder stage (a latent model). */
  get decodes(): boolean {
    return this.pixelSize !== undefined;
  }

  /**
   * Runs the generator on one batch: per request C×H×W floats, the image in [-1, 1] or, for a
   * latent model, the latent for decode().
   */
  async run(requests: readonly SampleRequest[]): Promise<Float32Array[]> {
    const images = (await this.call({ requests: [...requests] })) as Float32Array;
    return requests.map((_, i) => images.subarray(i * this.imageSize, (i + 1) * this.imageSize));
  }

  /** Runs the decoder on one batch of latents: per latent H×W×C bytes. */
  async decode(latents: readonly Float32Array[]): Promise<Uint8Array[]> {
    const pixelSize = this.pixelSize;
    if (pixelSize === undefined) throw new Error(`${this.model.manifest.id} has no decoder stage`);
    const batch = new Float32Array(latents.length * this.imageSize);
    latents.forEach((latent, i) => batch.set(latent, i * this.imageSize));
    const pixels = (await this.call({ latents: batch, count: latents.length }, [batch.buffer])) as Uint8Array;
    return latents.map((_, i) => pixels.subarray(i * pixelSize, (i + 1) * pixelSize));
  }

  /**
   * Runs each stage once at each of its batch sizes, so that the first real request does not pay for
   * allocation and tuning (and a model's readiness means it has computed an image).
   */
  async warmUp(batchSizes: readonly number[], decoderBatchSizes: readonly number[] = [1]): Promise<void> {
    const m = this.model.manifest;
    let latents: Float32Array[] = [];
    for (const size of new Set([...batchSizes, ...(this.decodes ? decoderBatchSizes : [])])) {
      latents = await this.run(
        Array.from({ length: size }, (_, i) => ({ seed: i, classIndex: i % m.classes.length, guidance: m.guidance.default, tmin: m.interval.default[0], tmax: m.interval.default[1] })),
      );
      if (this.decodes && decoderBatchSizes.includes(size)) await this.decode(latents);
    }
  }

  async close(): Promise<void> {
    if (!this.failure) await this.call({ close: true }).catch(() => {});
    await this.thread.terminate();
  }
}
