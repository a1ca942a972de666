// From a worker request to stored image bytes: check the request against the contract and the
// served manifest, join an identical request already in flight (single-flight on the image key),
// look in storage before any inference, else batch → encode → store write-once.
import { CONTENT_TYPES, canonicalPath, parseImagePath, type ImageRequest } from '@imf/contract';
import { imageKey, objectKey as objectKeyOf } from '@imf/contract';
import type { ModelRegistry } from '@imf/contract';
import type { WorkerImageRequest } from '@imf/contract';
import { Batcher } from '../batcher/index.js';
import { encodeImage, toPixels } from '../encode/index.js';
import { WorkerError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import type { WorkerMetrics } from '../metrics/index.js';
import type { ServableManifest } from '../models/manifest.js';
import type { ExecutionProvider, Sampler, SampleRequest } from '../inference/sampler.js';
import type { ImageStore } from '../storage/types.js';

export type ImageSource = 'generated' | 'storage' | 'shared';

export interface GeneratedImage {
  key: string;
  objectKey: string;
  contentType: string;
  body: Uint8Array;
  source: ImageSource;
}

/** A model being served: its manifest, its session and its batcher. */
export interface ServedModel {
  manifest: ServableManifest;
  executionProvider: ExecutionProvider;
  batcher: Batcher<SampleRequest, Float32Array>;
  /** Whether its inference thread still runs. */
  alive(): boolean;
}

export interface GeneratorOptions {
  /** How long a request may wait for a batch before it is refused ('deadline'). */
  requestTimeoutMs: number;
}

export function servedModel(sampler: Sampler, options: { maxBatchSize: number; maxDelayMs: number; maxQueue: number }, metrics: WorkerMetrics): ServedModel {
  const model = sampler.model.manifest.id;
  const batcher = new Batcher<SampleRequest, Float32Array>((items) => sampler.run(items), options, {
    queueDepth: (depth) => metrics.queueDepth.set({ model }, depth),
    batchRan: (size, seconds) => {
      metrics.batchSize.observe({ model }, size);
      metrics.inferenceSeconds.observe({ model }, seconds);
    },
  });
  return { manifest: sampler.model.manifest, executionProvider: sampler.executionProvider, batcher, alive: () => sampler.alive };
}

/** The generation parameters stored with each object (S3 user metadata: lowercase ASCII). */
function objectMetadata(req: ImageRequest, version: string, key: string): Record<string, string> {
  return {
    model: req.model,
    'model-version': version,
    class: String(req.class),
    guidance: String(req.guidance),
    tmin: String(req.tmin),
    tmax: String(req.tmax),
    seed: String(req.seed),
    format: req.format,
    size: String(req.size),
    'image-key': key,
  };
}

export class ImageGenerator {
  readonly registry: ModelRegistry;
  private readonly models: Map<string, ServedModel>;
  private readonly inFlight = new Map<string, Promise<Omit<GeneratedImage, 'source'>>>();

  constructor(
    models: readonly ServedModel[],
    readonly store: ImageStore,
    private readonly metrics: WorkerMetrics,
    private readonly options: GeneratorOptions,
  ) {
    this.models = new Map(models.map((m) => [m.manifest.id, m]));
    this.registry = Object.fromEntries(models.map((m) => [m.manifest.id, m.manifest]));
  }

  get servedModels(): ServedModel[] {
    return [...this.models.values()];
  }

  /**
   * Refuses what this worker must not generate: another model or version (409, the edge tries the
   * next worker), a request outside the model's limits or not in canonical form, or keys that are
   * not the contract's keys for it (400).
   */
  async check(work: WorkerImageRequest): Promise<ServedModel> {
    try {
      return await this.checked(work);
    } catch (error) {
      // Unknown model ids come from the caller: one label for all of them keeps the series bounded.
      const model = this.models.has(work.request.model) ? work.request.model : 'unknown';
      this.metrics.errors.inc({ model, reason: (error as WorkerError).kind ?? 'bad-request' });
      throw error;
    }
  }

  private async checked(work: WorkerImageRequest): Promise<ServedModel> {
    const req = work.request;
    const served = this.models.get(req.model);
    if (!served) {
      throw new WorkerError('wrong-model', `this worker does not serve model "${req.model}" (it serves ${[...this.models.keys()].join(', ') || 'none'})`);
    }
    if (work.modelVersion !== served.manifest.version) {
      throw new WorkerError('wrong-model', `this worker serves ${req.model} version ${served.manifest.version}, not ${work.modelVersion}`);
    }
    // The one definition of a valid request is the edge's parser: the request's own canonical URL
    // must parse back to the very same request.
    const url = new URL(canonicalPath(req), 'http://worker');
    const parsed = parseImagePath(this.registry, { model: req.model, file: url.pathname.split('/').pop()!, query: url.searchParams });
    if (!parsed.ok) throw new WorkerError('bad-request', parsed.issues.map((i) => i.detail).join('; '));
    const again = parsed.value.request;
    if (again.class !== req.class || again.guidance !== req.guidance || again.tmin !== req.tmin || again.tmax !== req.tmax || again.size !== req.size) {
      throw new WorkerError('bad-request', 'the request is not in canonical form (numbers must be quantised to 0.001)');
    }
    const key = await imageKey(req, work.modelVersion);
    if (work.key !== key) throw new WorkerError('bad-request', `key ${work.key} is not the image key of this request (${key})`);
    const expectedObjectKey = objectKeyOf(req, work.modelVersion, key);
    if (work.objectKey !== expectedObjectKey) throw new WorkerError('bad-request', `objectKey must be ${expectedObjectKey}`);
    return served;
  }

  /** The image of one checked request; identical concurrent requests share one generation. */
  async generate(work: WorkerImageRequest, served: ServedModel): Promise<GeneratedImage> {
    const model = served.manifest.id;
    const started = performance.now();
    try {
      const running = this.inFlight.get(work.key);
      if (running) {
        const image = await this.withinBudget(running, started);
        this.metrics.images.inc({ model, source: 'shared' });
        return { ...image, source: 'shared' };
      }
      let source: ImageSource = 'generated';
      const flight = (async () => {
        const stored = await this.metrics.timeStorage('get', () => this.store.get(work.objectKey), (found) => (found ? 'hit' : 'miss'));
        if (stored) {
          source = 'storage';
          return { key: work.key, objectKey: work.objectKey, contentType: stored.contentType, body: stored.body };
        }
        return this.render(work, served, this.options.requestTimeoutMs - (performance.now() - started));
      })();
      this.inFlight.set(work.key, flight);
      // The entry lives as long as the work, also when this caller stops waiting for it: a retry
      // joins the running work instead of starting it again.
      const settled = () => this.inFlight.delete(work.key);
      flight.then(settled, settled);
      const image = await this.withinBudget(flight, started);
      this.metrics.images.inc({ model, source });
      return { ...image, source };
    } catch (error) {
      const kind = error instanceof WorkerError ? error.kind : 'inference';
      this.metrics.errors.inc({ model, reason: kind });
      throw error;
    }
  }

  /**
   * The work's result, or a 'deadline' refusal (503) once the request has been here for
   * REQUEST_TIMEOUT_MS, whatever it waits on: the batch, or a storage call that is slow under load.
   * The answer must come before the edge's own deadline turns it into a 504. The work goes on and
   * stores its image for the retry.
   */
  private withinBudget<T>(work: Promise<T>, started: number): Promise<T> {
    const budget = this.options.requestTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerError('deadline', `no image within ${budget} ms: the worker is behind`, 2)), Math.max(0, budget - (performance.now() - started)));
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  private async render(work: WorkerImageRequest, served: ServedModel, waitMs: number): Promise<Omit<GeneratedImage, 'source'>> {
    const req = work.request;
    const m = served.manifest;
    const image = await served.batcher.submit(
      { seed: req.seed, classIndex: req.class, guidance: req.guidance, tmin: req.tmin, tmax: req.tmax },
      Math.max(1, waitMs),
    );
    const encodeStarted = performance.now();
    const body = await encodeImage(toPixels(image, m.image), m.image, req.format, req.size);
    this.metrics.encodeSeconds.observe({ format: req.format }, (performance.now() - encodeStarted) / 1000);
    const contentType = CONTENT_TYPES[req.format];
    await this.metrics.timeStorage(
      'put',
      () => this.store.putIfAbsent(work.objectKey, { body, contentType, metadata: objectMetadata(req, work.modelVersion, work.key) }),
      (outcome) => outcome,
    );
    return { key: work.key, objectKey: work.objectKey, contentType, body };
  }

  /** Refuses new work; what is queued still runs. */
  close(): void {
    for (const served of this.models.values()) served.batcher.close();
  }

  /** Resolves when no generation is in flight and every batcher is idle. */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
    await Promise.all([...this.models.values()].map((m) => m.batcher.idle()));
    if (this.inFlight.size > 0) await this.drained();
  }
}
