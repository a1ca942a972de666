// Raw onnxruntime-node speed of a model's graph (noise to pixels), the ceiling served numbers are compared
// with: one session set up as the worker sets up its own (threads, no spinning), random noise, the
// manifest's default guidance, and the median time per batch over a few seconds.
import ort from 'onnxruntime-node';
import type { ModelManifest } from '@imf/contract';

export interface RawInferenceOptions {
  batches: readonly number[];
  /** Seconds of timed runs per batch size (at least 5 runs each, after 3 untimed). */
  seconds: number;
  intraOpThreads: number;
  /** 'cpu' or 'cuda' (the worker's InferenceThread says which it got). */
  executionProvider?: string;
}

export interface RawInferenceRow {
  batch: number;
  medianMs: number;
  imagesPerSecond: number;
}

export async function measureRawInference(graphPath: string, manifest: ModelManifest, options: RawInferenceOptions): Promise<RawInferenceRow[]> {
  const session = await ort.InferenceSession.create(graphPath, {
    executionProviders: [options.executionProvider ?? 'cpu'],
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const [channels, height, width] = manifest.noise.shape;
  const rows: RawInferenceRow[] = [];
  try {
    for (const batch of options.batches) {
      const feeds = {
        noise: new ort.Tensor('float32', new Float32Array(batch * channels * height * width).map(() => Math.random() * 2 - 1), [batch, channels, height, width]),
        class: new ort.Tensor('int64', BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % manifest.classes.length)), [batch]),
        guidance: new ort.Tensor('float32', new Float32Array(batch).fill(manifest.guidance.default), [batch]),
        t_min: new ort.Tensor('float32', new Float32Array(batch).fill(manifest.interval.default[0]), [batch]),
        t_max: new ort.Tensor('float32', new Float32Array(batch).fill(manifest.interval.default[1]), [batch]),
      };
      for (let i = 0; i < 3; i++) await session.run(feeds);
      const times: number[] = [];
      const end = performance.now() + options.seconds * 1000;
      while (performance.now() < end || times.length < 5) {
        const started = performance.now();
        await session.run(feeds);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const medianMs = times[Math.floor(times.length / 2)]!;
      rows.push({ batch, medianMs, imagesPerSecond: (batch * 1000) / medianMs });
    }
  } finally {
    await session.release();
  }
  return rows;
}
