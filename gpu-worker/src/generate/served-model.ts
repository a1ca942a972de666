// A model being served: its manifest, the execution provider its inference thread runs on, and the
// batchers in front of that thread, with the per-stage metrics wired in: the generator's batcher
// (requests → images, or latents) and, for a latent model, the decoder's with its own batch size
// (latents → 8-bit pixels), so that generator batches are not held to the decoder's size.
import type { ModelManifest } from '@imf/contract';
import { Batcher, type BatcherOptions } from '../batcher/index.js';
import type { ExecutionProvider, InferenceThread, SampleRequest } from '../inference/inference-thread.js';
import type { WorkerMetrics } from '../metrics/index.js';

export type Stage = 'generator' | 'decoder';

export interface ServedModel {
  manifest: ModelManifest;
  executionProvider: ExecutionProvider;
  /** The generator stage: per request, the float image (one stage) or the latent (latent models). */
  batcher: Batcher<SampleRequest, Float32Array>;
  /** The decoder stage of a latent model: per latent, H×W×C bytes. */
  decoder?: Batcher<Float32Array, Uint8Array>;
  /** Whether its inference thread still runs. */
  alive(): boolean;
}

function observed(metrics: WorkerMetrics, model: string, stage: Stage) {
  return {
    queueDepth: (depth: number) => metrics.queueDepth.set({ model, stage }, depth),
    batchRan: (size: number, seconds: number) => {
      metrics.batchSize.observe({ model, stage }, size);
      metrics.inferenceSeconds.observe({ model, stage }, seconds);
    },
  };
}

export function servedModel(thread: InferenceThread, options: BatcherOptions & { decoder: BatcherOptions }, metrics: WorkerMetrics): ServedModel {
  const model = thread.model.manifest.id;
  const batcher = new Batcher<SampleRequest, Float32Array>((items) => thread.run(items), options, observed(metrics, model, 'generator'));
  const decoder = thread.decodes ? new Batcher<Float32Array, Uint8Array>((latents) => thread.decode(latents), options.decoder, observed(metrics, model, 'decoder')) : undefined;
  return { manifest: thread.model.manifest, executionProvider: thread.executionProvider, batcher, ...(decoder ? { decoder } : {}), alive: () => thread.alive };
}
