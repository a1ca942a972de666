// The worker's Prometheus metrics (GET /metrics), on a registry of its own so that several workers
// in one process (tests, the benchmark) keep separate counts.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerEventLoopMetrics } from './event-loop.js';

export class WorkerMetrics {
  readonly registry = new Registry();

  readonly queueDepth = new Gauge({
    name: 'imf_worker_queue_depth',
    help: 'Requests waiting for a batch, per model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'imf_worker_batch_size',
    help: 'Images per run of the model graph (one batch), per model',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly inferenceSeconds = new Histogram({
    name: 'imf_worker_inference_seconds',
    help: 'Time of one run of the model graph (one batch, noise to pixels), per model',
    labelNames: ['model'] as const,
    // Up to minutes: a latent model's batch (its VAE decoder inside) on a CPU takes that long.
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly images = new Counter({
    name: 'imf_worker_images_total',
    help: 'Images answered, per model and source: generated (an inference), storage (found stored), shared (joined an identical request in flight)',
    labelNames: ['model', 'source'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'imf_worker_errors_total',
    help: 'Failed image requests, per model and reason',
    labelNames: ['model', 'reason'] as const,
    registers: [this.registry],
  });

  readonly encodeSeconds = new Histogram({
    name: 'imf_worker_encode_seconds',
    help: 'Time to resize and encode one image, per format',
    labelNames: ['format'] as const,
    buckets: [0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  readonly storageSeconds = new Histogram({
    name: 'imf_worker_storage_seconds',
    help: 'Time of one storage operation, per operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly integrityFailures = new Counter({
    name: 'imf_worker_storage_integrity_failures_total',
    help: 'Stored objects that failed their integrity check (missing or wrong tag): treated as absent, regenerated and replaced',
    registers: [this.registry],
  });

  readonly unreadableObjects = new Counter({
    name: 'imf_worker_storage_unreadable_total',
    help: 'Stored objects the store could not produce (5xx for the key: a lost volume): treated as absent, regenerated and written over',
    registers: [this.registry],
  });

  readonly requests = new Counter({
    name: 'imf_worker_http_requests_total',
    help: 'HTTP requests answered, per route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'imf_worker_' });
      registerEventLoopMetrics(this.registry);
    }
  }

  /** Times an async step into a histogram; the outcome label says whether it threw. */
  async timeStorage<T>(operation: string, step: () => Promise<T>, outcomeOf: (value: T) => string = () => 'ok'): Promise<T> {
    const started = performance.now();
    try {
      const value = await step();
      this.storageSeconds.observe({ operation, outcome: outcomeOf(value) }, (performance.now() - started) / 1000);
      return value;
    } catch (error) {
      this.storageSeconds.observe({ operation, outcome: 'error' }, (performance.now() - started) / 1000);
      throw error;
    }
  }
}
