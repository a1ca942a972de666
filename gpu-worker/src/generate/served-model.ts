// A model being served: its manifest, the execution provider its inference thread runs on, and the
// batcher in front of that thread (requests → 8-bit pixels), with its metrics wired in.
import type { ModelManifest } from '@imf/contract';
import { Batcher, type BatcherOptions } from '../batcher/index.js';
import type { ExecutionProvider, InferenceThread, SampleRequest } from '../inference/inference-thread.js';
import type { WorkerMetrics } from '../metrics/index.js';

export interface ServedModel {
  manifest: ModelManifest;
  executionProvider: ExecutionProvider;
  /** Requests in, per request the image's H×W×C bytes at the model's native size. */
  batcher: Batcher<SampleRequest, Uint8Array>;
  /** Whether its inference thread still runs. */
  alive(): boolean;
}

export function servedModel(thread: InferenceThread, options: BatcherOptions, metrics: WorkerMetrics): ServedModel {
  const model = thread.model.manifest.id;
  const batcher = new Batcher<SampleRequest, Uint8Array>((items) => thread.run(items), options, {
    queueDepth: (depth: number) => metrics.queueDepth.set({ model }, depth),
    batchRan: (size: number, seconds: number) => {
      metrics.batchSize.observe({ model }, size);
      metrics.inferenceSeconds.observe({ model }, seconds);
    },
  });
  return { manifest: thread.model.manifest, executionProvider: thread.executionProvider, batcher, alive: () => thread.alive };
}
