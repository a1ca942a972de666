// The client for the GPU worker pool: rendezvous order per image key, circuit breakers, health from
// /readyz and from failures, retries on the next worker with jittered backoff, all inside one
// deadline, and a bound on the calls in flight to each worker. It answers with an image whose key
// the worker confirmed, or with the status the edge should give (502/503/504).
import { IMAGE_KEY_HEADER, WORKER_GENERATE_PATH, WORKER_READY_PATH, WORKER_SECRET_HEADER, type WorkerImageRequest } from '@imf/contract';
import type { StoredImage } from '../cache/types.js';
import { consoleSink, type LogSink } from '../observability/index.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';
import { rendezvousOrder } from './rendezvous.js';

export interface PoolOptions {
  workerUrls: readonly string[];
  secret: string;
  deadlineMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  backoffBaseMs: number;
  readyTimeoutMs: number;
  /**
   * Most calls this edge (process or isolate) keeps in flight to one worker; past it the worker
   * counts as busy without being called. 0: no bound. Overload then waits here, visibly, for a
   * fast 503, instead of as ever more connections in the worker's accept queue, where it ends as
   * a 504 at the deadline.
   */
  maxInFlight: number;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  /** Where a worker's wrong answer is reported (an image under another key); the console unless given. */
  log?: LogSink;
}

export type PoolOutcome =
  | { ok: true; image: StoredImage; worker: string; attempts: number }
  | { ok: false; status: 502 | 503 | 504; retryAfterSeconds: number; detail: string; attempts: number };

/** What a probe found of one worker. */
export interface WorkerHealth {
  url: string;
  breaker: BreakerState;
  ready: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retry-After when no worker serves the model version the edge keyed with: the edge and the workers
 * run different manifests, as during a rolling deploy, which ends in minutes, not seconds.
 */
export const VERSION_SKEW_RETRY_AFTER_SECONDS = 30;

export class WorkerPool {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly inFlight = new Map<string, number>();
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: LogSink;

  constructor(private readonly options: PoolOptions) {
    for (const url of options.workerUrls) {
      if (!this.breakers.has(url)) this.breakers.set(url, new CircuitBreaker(options.breakerThreshold, options.breakerCooldownMs));
    }
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? consoleSink;
  }

  /**
   * Generates the image `key` names (the contract's imageKey of the body's request and version) on
   * the pool, trying workers in rendezvous order for the key, within the deadline plus `extraMs`
   * (the model's allowance: a slow model's image takes longer).
   */
  async generate(key: string, body: WorkerImageRequest, extraMs = 0): Promise<PoolOutcome> {
    const { workerUrls, backoffBaseMs } = this.options;
    if (workerUrls.length === 0) return { ok: false, status: 503, retryAfterSeconds: 30, detail: 'no GPU workers are configured', attempts: 0 };
    const deadlineMs = this.options.deadlineMs + extraMs;
    const deadline = this.now() + deadlineMs;
    let attempts = 0;
    let retryAfterSeconds = 1;
    let atLimit = 0;
    let busy = 0;
    let otherVersion = 0;
    let wrongKey = false;

    for (const url of rendezvousOrder(workerUrls, key)) {
      const breaker = this.breakers.get(url)!;
      const calls = this.inFlight.get(url) ?? 0;
      if (this.options.maxInFlight > 0 && calls >= this.options.maxInFlight) {
        atLimit += 1;
        continue;
      }
      if (!breaker.tryAcquire(this.now())) continue;
      if (attempts > 0) {
        // Full jitter: spreads retries of many edges that saw the same failure.
        const backoff = this.random() * Math.min(1000, backoffBaseMs * 2 ** attempts);
        if (this.now() + backoff >= deadline) return this.timeout(attempts, deadlineMs);
        await sleep(backoff);
      }
      attempts += 1;
      const remaining = deadline - this.now();
      if (remaining <= 0) return this.timeout(attempts, deadlineMs);
      this.inFlight.set(url, (this.inFlight.get(url) ?? 0) + 1);
      try {
        const response = await this.fetch(url + WORKER_GENERATE_PATH, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: this.options.secret },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(remaining),
        });
        if (response.ok) {
          const answered = response.headers.get(IMAGE_KEY_HEADER);
          if (answered !== key) {
            // Another image than the one asked for (a worker keying differently: a bug or a contract
            // skew). Never served or cached under this key; the worker counts as failing.
            await response.body?.cancel();
            breaker.failure(this.now());
            wrongKey = true;
            this.log({ event: 'worker-key-mismatch', worker: url, key: key.slice(0, 12), answered: answered?.slice(0, 12) ?? null });
            continue;
          }
          const image = { body: new Uint8Array(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? 'image/png' };
          breaker.success();
          return { ok: true, image, worker: url, attempts };
        }
        await response.body?.cancel();
        if (response.status === 400 || response.status === 401 || response.status === 403) {
          // The worker is alive but refuses what we sent: a bug or a secret mismatch, not load.
          breaker.success();
          return { ok: false, status: 502, retryAfterSeconds: 0, detail: `a GPU worker rejected the request (${response.status})`, attempts };
        }
        if (response.status === 503) {
          // Busy is not broken: no breaker failure, just the next worker.
          breaker.release();
          busy += 1;
          retryAfterSeconds = Math.max(retryAfterSeconds, Number(response.headers.get('retry-after')) || 1);
          continue;
        }
        if (response.status === 409) {
          // A healthy worker serving another version of the model (a rolling deploy): the next one
          // may serve this version, and this worker stays as trusted as it was.
          breaker.release();
          otherVersion += 1;
          continue;
        }
        breaker.failure(this.now());
      } catch {
        breaker.failure(this.now());
        if (this.now() >= deadline) return this.timeout(attempts, deadlineMs);
      } finally {
        this.inFlight.set(url, this.inFlight.get(url)! - 1);
      }
    }

    if (this.now() >= deadline) return this.timeout(attempts, deadlineMs);
    if (attempts === 0 && atLimit > 0) {
      return { ok: false, status: 503, retryAfterSeconds: 1, detail: `every available GPU worker already has ${this.options.maxInFlight} requests in flight`, attempts };
    }
    if (attempts === 0) {
      const soonest = Math.min(...workerUrls.map((u) => this.breakers.get(u)!.retryInMs(this.now())));
      return { ok: false, status: 503, retryAfterSeconds: Math.max(1, Math.ceil(soonest / 1000)), detail: 'every GPU worker is unavailable (circuit open)', attempts };
    }
    const couldNotTake: PoolOutcome = { ok: false, status: 503, retryAfterSeconds, detail: 'no GPU worker could take the request', attempts };
    if (busy > 0) return couldNotTake;
    if (otherVersion > 0 && otherVersion === attempts) {
      return {
        ok: false,
        status: 503,
        retryAfterSeconds: VERSION_SKEW_RETRY_AFTER_SECONDS,
        detail: `no GPU worker serves model ${body.request.model} version ${body.modelVersion} (the workers run another version of it, as during a deploy)`,
        attempts,
      };
    }
    if (wrongKey) return { ok: false, status: 502, retryAfterSeconds: 0, detail: 'a GPU worker answered with an image other than the one asked for', attempts };
    return couldNotTake;
  }

  private timeout(attempts: number, deadlineMs: number): PoolOutcome {
    return { ok: false, status: 504, retryAfterSeconds: 1, detail: `no GPU worker answered within ${deadlineMs} ms`, attempts };
  }

  /** Probes every worker's /readyz; a failed probe opens its breaker, a passed one closes it. */
  async probe(): Promise<WorkerHealth[]> {
    return Promise.all(
      this.options.workerUrls.map(async (url) => {
        const breaker = this.breakers.get(url)!;
        let ready = false;
        try {
          const response = await this.fetch(url + WORKER_READY_PATH, {
            headers: { [WORKER_SECRET_HEADER]: this.options.secret },
            signal: AbortSignal.timeout(this.options.readyTimeoutMs),
          });
          await response.body?.cancel();
          ready = response.ok;
        } catch {
          ready = false;
        }
        if (ready) breaker.success();
        else breaker.trip(this.now());
        return { url, breaker: breaker.state, ready };
      }),
    );
  }
}
