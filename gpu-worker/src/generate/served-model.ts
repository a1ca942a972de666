// A model being served: its manifest, the execution provider its inference thread runs on, and the
// batcher in front of that thread, with the batch metrics wired in.
import type { ModelManifest } from '@imf/contract';
import { Batcher } from '../batcher/index.js';
import type { ExecutionProvider, InferenceThread, SampleRequest } from '../inference/inference-thread.js';
import type { WorkerMetrics } from '../metrics/index.js';

export interface ServedModel {
  manifest: ModelManifest;
  executionProvider: ExecutionProvider;
  batcher: Batcher<SampleRequest, Float32Array>;
  /** Whether its inference thread still runs. */
  alive(): boolean;
}

export function servedModel(thread: InferenceThread, options: { maxBatchSize: number; maxDelayMs: number; maxQueue: number }, metrics: WorkerMetrics): ServedModel {
  const model = thread.model.manifest.id;
  const batcher = new Batcher<SampleRequest, Float32Array>((items) => thread.run(items), options, {
    queueDepth: (depth) => metrics.queueDepth.set({ model }, depth),
    batchRan: (size, seconds) => {
      metrics.batchSize.observe({ model }, size);
      metrics.inferenceSeconds.observe({ model }, seconds);
    },
  });
  return { manifest: thread.model.manifest, executionProvider: thread.executionProvider, batcher, alive: () => thread.alive };
}
