// The inference thread of one model: it owns the model's ONNX Runtime session, makes each batch's
// noise and runs the graph, so that onnxruntime-node's blocking run() never stalls the HTTP event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { SamplerSession, type SamplerOptions, type SampleRequest, type SessionModel } from './session.js';

export type ThreadRequest = { id: number; requests: SampleRequest[] } | { id: number; close: true };
export type ThreadReply =
  | { type: 'opened'; executionProvider: SamplerSession['executionProvider']; fallback?: string }
  | { type: 'failed'; message: string }
  | { id: number; pixels: Uint8Array }
  | { id: number; error: string };

const port = parentPort!;
const { model, options } = workerData as { model: SessionModel; options: SamplerOptions };

let fallback: string | undefined;
try {
  const session = await SamplerSession.open(model, options, (reason) => (fallback = reason));
  port.on('message', async (message: ThreadRequest) => {
    if ('close' in message) {
      await session.close();
      port.postMessage({ id: message.id, pixels: new Uint8Array(0) } satisfies ThreadReply);
      return;
    }
    try {
      const pixels = await session.run(message.requests);
      // Hand the buffer over rather than copy it; ONNX Runtime allocated it for this run alone.
      port.postMessage({ id: message.id, pixels } satisfies ThreadReply, [pixels.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({ id: message.id, error: (error as Error).message } satisfies ThreadReply);
    }
  });
  port.postMessage({ type: 'opened', executionProvider: session.executionProvider, ...(fallback ? { fallback } : {}) } satisfies ThreadReply);
} catch (error) {
  port.postMessage({ type: 'failed', message: (error as Error).message } satisfies ThreadReply);
}
