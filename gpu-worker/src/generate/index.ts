// From a worker request to stored image bytes: the request is checked (check.ts), joins an
// identical request already in flight (single-flight on the image key), is looked for in storage
// before any inference unless the edge has just looked (storageChecked), and is otherwise rendered
// (render.ts), all within the request's deadline.
import { findModel, modelTimeAllowanceMs, summarize, type ModelRegistry, type WorkerImageRequest } from '@imf/contract';
import { asWorkerError, WorkerError } from '../errors.js';
import type { WorkerMetrics } from '../metrics/index.js';
import type { ImageStore } from '@imf/contract';
import { checkRequest, type CheckedWork, type KeyedWork } from './check.js';
import { renderImage, type Marking, type RenderedImage } from './render.js';
import type { ServedModel } from './served-model.js';
import { SingleFlight } from './single-flight.js';

export { servedModel, type ServedModel } from './served-model.js';

/** Where an answered image came from: an inference, storage, or another request's work. */
export type ImageSource = 'generated' | 'storage' | 'shared';

export interface GeneratedImage extends RenderedImage {
  source: ImageSource;
}

export interface GeneratorOptions {
  /**
   * How long a request may wait for its image before it is refused ('deadline'), plus its model's
   * allowance (the contract's modelTimeAllowanceMs: a few times its measured seconds per image).
   */
  requestTimeoutMs: number;
  /** What each image's XMP marking holds beyond the source type and the model version (default: the parameters too). */
  marking?: Marking;
}

export class ImageGenerator {
  readonly registry: ModelRegistry;
  private readonly models: Map<string, ServedModel>;
  private readonly flights = new SingleFlight<{ image: RenderedImage; source: 'generated' | 'storage' }>();

  constructor(
    models: readonly ServedModel[],
    readonly store: ImageStore,
    private readonly metrics: WorkerMetrics,
    private readonly options: GeneratorOptions,
  ) {
    this.models = new Map(models.map((m) => [m.manifest.id, m]));
    this.registry = Object.fromEntries(models.map((m) => [m.manifest.id, summarize(m.manifest)]));
  }

  /** What a request for `model` may take beyond the base timeouts: a few times its seconds per image. */
  allowanceMs(model: string): number {
    const summary = findModel(this.registry, model);
    return summary ? modelTimeAllowanceMs(summary) : 0;
  }

  /** How long a request for `model` may take here: the base timeout plus the model's allowance. */
  timeoutMs(model: string): number {
    return this.options.requestTimeoutMs + this.allowanceMs(model);
  }

  get servedModels(): ServedModel[] {
    return [...this.models.values()];
  }

  /** The served model for `body` and its keyed work, or the WorkerError that refuses it (check.ts), counted. */
  async check(body: WorkerImageRequest): Promise<CheckedWork> {
    try {
      return await checkRequest(this.models, this.registry, body);
    } catch (error) {
      // Unknown model ids come from the caller: one label for all of them keeps the series bounded.
      const model = this.models.has(body.request.model) ? body.request.model : 'unknown';
      this.metrics.errors.inc({ model, reason: asWorkerError(error).kind });
      throw error;
    }
  }

  /** The image of one checked request; identical concurrent requests share one generation. */
  async generate(work: KeyedWork, served: ServedModel): Promise<GeneratedImage> {
    const model = served.manifest.id;
    const started = performance.now();
    const budget = this.timeoutMs(model);
    try {
      const flight = this.flights.run(work.key, async () => {
        // The edge just found no object there (storageChecked): looking again would only repeat its
        // miss. The put is write-once, so an object that got there meanwhile stays and counts as done.
        const stored = work.storageChecked ? undefined : await this.metrics.timeStorage('get', () => this.store.get(work.objectKey), (found) => (found ? 'hit' : 'miss'));
        if (stored) return { image: { key: work.key, objectKey: work.objectKey, contentType: stored.contentType, body: stored.body }, source: 'storage' as const };
        const image = await renderImage(work, served, budget - (performance.now() - started), this.store, this.metrics, this.options.marking ?? { parameters: true });
        return { image, source: 'generated' as const };
      });
      const { image, source } = await this.withinBudget(flight.work, started, budget);
      const answered: ImageSource = flight.joined ? 'shared' : source;
      this.metrics.images.inc({ model, source: answered });
      return { ...image, source: answered };
    } catch (error) {
      this.metrics.errors.inc({ model, reason: asWorkerError(error).kind });
      throw error;
    }
  }

  /**
   * The work's result, or a 'deadline' refusal (503) once the request has been here for
   * REQUEST_TIMEOUT_MS, whatever it waits on: the batch, or a storage call that is slow under load.
   * The answer must come before the edge's own deadline turns it into a 504. The work goes on and
   * stores its image for the retry.
   */
  private withinBudget<T>(work: Promise<T>, started: number, budget: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerError('deadline', `no image within ${budget} ms: the worker is behind`, 2)), Math.max(0, budget - (performance.now() - started)));
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  /** Refuses new work; what is queued still runs. */
  close(): void {
    for (const served of this.models.values()) served.batcher.close();
  }

  /** Resolves when no generation is in flight and every batcher is idle. */
  async drained(): Promise<void> {
    await this.flights.settled();
    await Promise.all([...this.models.values()].map((m) => m.batcher.idle()));
    if (this.flights.size > 0) await this.drained();
  }
}
