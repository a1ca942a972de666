// The inference thread of one model: it owns the ONNX Runtime sessions, makes each batch's noise and
// runs the generator, and runs a latent model's decoder on batches of latents, so that
// onnxruntime-node's blocking run() never stalls the HTTP event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { SamplerSession, type SamplerOptions, type SampleRequest, type SessionModel } from './session.js';

export type ThreadRequest = { id: number; requests: SampleRequest[] } | { id: number; latents: Float32Array; count: number } | { id: number; close: true };
export type ThreadReply =
  | { type: 'opened'; executionProvider: SamplerSession['executionProvider']; fallback?: string }
  | { type: 'failed'; message: string }
  | { id: number; images: Float32Array | Uint8Array }
  | { id: number; error: string };

const port = parentPort!;
const { model, options } = workerData as { model: SessionModel; options: SamplerOptions };

let fallback: string | undefined;
try {
  const session = await SamplerSession.open(model, options, (reason) => (fallback = reason));
  port.on('message', async (message: ThreadRequest) => {
    if ('close' in message) {
      await session.close();
      port.postMessage({ id: message.id, images: new Float32Array(0) } satisfies ThreadReply);
      return;
    }
    try {
      const images = 'latents' in message ? await session.decode(message.latents, message.count) : await session.run(message.requests);
      // Hand the buffer over rather than copy it; ONNX Runtime allocated it for this run alone.
      port.postMessage({ id: message.id, images } satisfies ThreadReply, [images.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({ id: message.id, error: (error as Error).message } satisfies ThreadReply);
    }
  });
  port.postMessage({ type: 'opened', executionProvider: session.executionProvider, ...(fallback ? { fallback } : {}) } satisfies ThreadReply);
} catch (error) {
  port.postMessage({ type: 'failed', message: (error as Error).message } satisfies ThreadReply);
}
