// The worker's life: listen at once (so /healthz answers), discover and validate the models, open
// and warm their sessions, then report ready; on shutdown stop accepting, finish queued work, close.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Admission } from './admission/index.js';
import { createApp, type Phase, type WorkerState } from './api/app.js';
import type { WorkerConfig } from './config/index.js';
import { ImageGenerator, servedModel, type ServedModel } from './generate/index.js';
import { InferenceThread } from './inference/inference-thread.js';
import { createLogger, type Logger } from './logging/index.js';
import { WorkerMetrics } from './metrics/index.js';
import { discoverModels, type RefusedModel } from './models/discover.js';
import { filesystemStore, nodeS3Store } from '@imf/contract/storage/node';
import type { ImageStore } from '@imf/contract';
import { withRepair } from './storage/repair.js';
import { withIntegrity } from './storage/integrity.js';

export function storeFor(config: WorkerConfig['storage']): ImageStore {
  if (config.kind === 'filesystem') return filesystemStore(config.dir);
  const { kind: _, ...options } = config;
  return nodeS3Store(options);
}

export interface StartOptions {
  log?: Logger;
  metrics?: WorkerMetrics;
}

export class GpuWorker implements WorkerState {
  private currentPhase: Phase = 'starting';
  private currentGenerator: ImageGenerator | undefined;
  private refusedModels: RefusedModel[] = [];
  private threads: InferenceThread[] = [];
  private shuttingDown: Promise<void> | undefined;
  /** Resolves when the models are warm and the worker takes work; rejects when none can be served. */
  readonly ready: Promise<void>;

  private constructor(
    readonly config: WorkerConfig,
    readonly log: Logger,
    readonly metrics: WorkerMetrics,
    private readonly server: Server,
    readonly url: string,
  ) {
    this.ready = this.load();
    this.ready.catch(() => {}); // the caller decides what a failed start means; no unhandled rejection here
  }

  static async start(config: WorkerConfig, options: StartOptions = {}): Promise<GpuWorker> {
    const log = options.log ?? createLogger(config.logLevel);
    const metrics = options.metrics ?? new WorkerMetrics();
    let worker: GpuWorker | undefined;
    const state: WorkerState = {
      phase: () => worker?.phase() ?? 'starting',
      generator: () => worker?.generator(),
      refused: () => worker?.refused() ?? [],
    };
    const admission = new Admission(config.shedAfterMs);
    const app = createApp(state, { secret: config.workerSecret, maxBodyBytes: config.maxBodyBytes, metrics, log, admission });
    const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info: AddressInfo) => resolve({ server: s as Server, port: info.port }));
      s.once('error', reject);
    });
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    worker = new GpuWorker(config, log, metrics, server, `http://${host}:${port}`);
    log.info({ url: worker.url, modelsDir: config.modelsDir, storage: config.storage.kind }, 'listening');
    return worker;
  }

  phase(): Phase {
    return this.currentPhase;
  }

  generator(): ImageGenerator | undefined {
    return this.currentGenerator;
  }

  refused(): RefusedModel[] {
    return this.refusedModels;
  }

  private async load(): Promise<void> {
    const { config, log } = this;
    const discovery = await discoverModels(config.modelsDir).catch((error: Error) => {
      throw new Error(`MODELS_DIR ${config.modelsDir} cannot be read: ${error.message}`);
    });
    this.refusedModels = [...discovery.refused];
    const served: ServedModel[] = [];
    for (const model of discovery.models) {
      try {
        const thread = await InferenceThread.open(
          model,
          { executionProvider: config.executionProvider, intraOpThreads: config.intraOpThreads, interOpThreads: config.interOpThreads, cudaDeviceId: config.cudaDeviceId },
          (reason) => log.warn({ model: model.manifest.id }, reason),
        );
        this.threads.push(thread);
        const warmStarted = performance.now();
        await thread.warmUp([1, config.maxBatchSize]);
        const warmUpMs = Math.round(performance.now() - warmStarted);
        served.push(servedModel(thread, { maxBatchSize: config.maxBatchSize, maxDelayMs: config.maxBatchDelayMs, maxQueue: config.maxQueue }, this.metrics));
        log.info({ model: model.manifest.id, version: model.manifest.version, executionProvider: thread.executionProvider, maxBatchSize: config.maxBatchSize, warmUpMs }, 'model ready');
      } catch (error) {
        this.refusedModels.push({ dir: model.dir, reason: (error as Error).message });
      }
    }
    for (const refused of this.refusedModels) log.error({ folder: refused.dir, reason: refused.reason }, `model refused: ${refused.reason}`);
    if (served.length === 0) throw new Error(`no servable model in ${config.modelsDir}`);
    if (this.currentPhase !== 'starting') return;
    const repairing = withRepair(storeFor(config.storage), (objectKey, error) => {
      this.metrics.unreadableObjects.inc();
      this.log.warn({ event: 'storage-object-unreadable', objectKey, status: error.status, error: error.message }, 'storage could not produce a stored object; regenerating it');
    });
    const store = config.integrityKey
      ? withIntegrity(repairing, config.integrityKey, (objectKey, tagged) => {
          this.metrics.integrityFailures.inc();
          this.log.warn({ event: 'storage-integrity-mismatch', objectKey, tagged }, 'stored object failed its integrity check; regenerating it');
        })
      : repairing;
    this.currentGenerator = new ImageGenerator(served, store, this.metrics, { requestTimeoutMs: config.requestTimeoutMs, marking: { parameters: config.xmpParameters } });
    this.currentPhase = 'ready';
    log.info({ models: served.map((m) => m.manifest.id) }, 'ready');
  }

  /**
   * Graceful stop: /readyz turns 503 and new requests get 503, the listener closes, queued and
   * running generations finish and their responses go out; then the sessions are released.
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= this.drain();
    return this.shuttingDown;
  }

  private async drain(): Promise<void> {
    const { log } = this;
    const started = performance.now();
    this.currentPhase = 'draining';
    log.info('draining');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const generator = this.currentGenerator;
    generator?.close();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, this.config.shutdownTimeoutMs, 'timeout').unref());
    const outcome = await Promise.race([(async () => {
      await generator?.drained();
      // Responses for the last generations are being written; let the connections finish.
      this.server.closeIdleConnections();
      await closed;
    })(), timeout]);
    if (outcome === 'timeout') log.warn({ timeoutMs: this.config.shutdownTimeoutMs }, 'drain timed out; closing the remaining connections');
    this.server.closeAllConnections();
    await this.ready.catch(() => {});
    await Promise.allSettled(this.threads.map((t) => t.close()));
    log.info({ ms: Math.round(performance.now() - started) }, 'stopped');
  }
}
