// The client for the GPU worker pool: rendezvous order per image key, circuit breakers, health from
// /readyz and from failures, retries on the next worker with jittered backoff, all inside one
// deadline, and a bound on the calls in flight to each worker. It answers with an image whose key
// the worker confirmed, or with the status the edge should give (502/503/504).
import { IMAGE_KEY_HEADER, WORKER_GENERATE_PATH, WORKER_READY_PATH, WORKER_SECRET_HEADER, WORKER_STORAGE_PROBLEM_TYPE, type WorkerImageRequest } from '@imf/contract';
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
   * Base deadline of one attempt on one worker (POOL_ATTEMPT_MS); the model's allowance and its
   * time per image for each call already in flight there are added. An attempt past it is hedged
   * on the next worker and counts as a failure of its own.
   */
  attemptMs: number;
  /**
   * Most calls this edge (process or isolate) keeps in flight to one worker; past it the worker
   * counts as busy without being called. 0: no bound. Overload then waits here, visibly, for a
   * fast 503, instead of as ever more connections in the worker's accept queue, where it ends as
   * a 504 at the deadline.
   */
  maxInFlight: number;
  /**
   * Sent with every call besides the worker secret: the credentials of the private path to the
   * pool (Cloudflare Access's service token for a tunnel to the gateway: WORKER_ACCESS_CLIENT_ID/_SECRET).
   */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  /** Where a worker's wrong answer is reported (an image under another key); the console unless given. */
  log?: LogSink;
}

export type PoolOutcome =
  | { ok: true; image: StoredImage; worker: string; attempts: number }
  | { ok: false; status: 502 | 503 | 504; retryAfterSeconds: number; detail: string; attempts: number; dependency?: 'storage' };

/** What a probe found of one worker. */
export interface WorkerHealth {
  url: string;
  breaker: BreakerState;
  ready: boolean;
}

/** What one attempt on one worker came to. */
type Settled =
  | { kind: 'image'; image: StoredImage; worker: string }
  | { kind: 'rejected'; status: number }
  | { kind: 'busy' | 'storage' | 'other-version' | 'wrong-key' | 'failed' };

/** What the attempts of one generation ran into, for the outcome when none brought an image. */
interface Tally {
  attempts: number;
  retryAfterSeconds: number;
  atLimit: number;
  busy: number;
  /** Workers that answered that object storage failed them. */
  storage: number;
  otherVersion: number;
  wrongKey: boolean;
  timedOut: number;
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
   * (the model's allowance: a slow model's image takes longer). Each attempt has its own deadline
   * (attemptDeadlineMs); an attempt that outlives it counts as a failure of its worker and is hedged:
   * the next worker is asked too, and whichever answers first within the whole deadline is served.
   */
  async generate(key: string, body: WorkerImageRequest, extraMs = 0, msPerImage = 0): Promise<PoolOutcome> {
    const { workerUrls, backoffBaseMs } = this.options;
    if (workerUrls.length === 0) return { ok: false, status: 503, retryAfterSeconds: 30, detail: 'no GPU workers are configured', attempts: 0 };
    const deadlineMs = this.options.deadlineMs + extraMs;
    const deadline = this.now() + deadlineMs;
    const tally: Tally = { attempts: 0, retryAfterSeconds: 1, atLimit: 0, busy: 0, storage: 0, otherVersion: 0, wrongKey: false, timedOut: 0 };
    // Attempts still running (the hedged ones among them), each settling with what it found.
    const running = new Set<Promise<Settled>>();
    const stop = new AbortController();
    const wholeDeadline = setTimeout(() => stop.abort(), deadlineMs);
    let lastFailed = false;

    try {
      for (const url of rendezvousOrder(workerUrls, key)) {
        const breaker = this.breakers.get(url)!;
        const calls = this.inFlight.get(url) ?? 0;
        if (this.options.maxInFlight > 0 && calls >= this.options.maxInFlight) {
          tally.atLimit += 1;
          continue;
        }
        if (!breaker.tryAcquire(this.now())) continue;
        if (lastFailed) {
          // Full jitter: spreads retries of many edges that saw the same failure.
          const backoff = this.random() * Math.min(1000, backoffBaseMs * 2 ** tally.attempts);
          if (this.now() + backoff >= deadline) {
            breaker.release();
            break;
          }
          await sleep(backoff);
        }
        if (this.now() >= deadline) {
          breaker.release();
          break;
        }
        tally.attempts += 1;
        const attemptMs = this.attemptDeadlineMs(url, msPerImage, extraMs);
        const late = { passed: false };
        const attempt = this.attempt(url, key, body, stop.signal, tally, late);
        running.add(attempt);
        // Runs before anyone awaiting the attempt resumes: a settled attempt is never raced again.
        void attempt.finally(() => running.delete(attempt));
        // The attempt's own deadline, or what is left of the whole one if that comes first.
        const waitMs = Math.min(attemptMs, deadline - this.now());
        const settled = await this.firstOf(running, waitMs);
        if (settled === 'late') {
          // The attempt outlived its deadline: a hung or slow worker. It counts against the worker
          // (enough of them open its circuit, as for a dead one), but it keeps running: if it still
          // answers first, its image is served. Meanwhile the next worker is asked (hedged).
          tally.timedOut += 1;
          late.passed = true;
          breaker.failure(this.now());
          this.log({ event: 'worker-attempt-late', worker: url, key: key.slice(0, 12), after_ms: Math.max(0, Math.round(waitMs)) });
          lastFailed = false;
          continue;
        }
        if (settled.kind === 'image') return { ok: true, image: settled.image, worker: settled.worker, attempts: tally.attempts };
        if (settled.kind === 'rejected') return { ok: false, status: 502, retryAfterSeconds: 0, detail: `a GPU worker rejected the request (${settled.status})`, attempts: tally.attempts };
        // Busy, another version or another key: the next worker at once; a failure after a backoff.
        lastFailed = settled.kind === 'failed';
      }
      // No worker left to ask: the hedged attempts still running may yet answer, within the deadline.
      while (running.size > 0 && this.now() < deadline) {
        const settled = await this.firstOf(running, deadline - this.now());
        if (settled === 'late') break;
        if (settled.kind === 'image') return { ok: true, image: settled.image, worker: settled.worker, attempts: tally.attempts };
        if (settled.kind === 'rejected') return { ok: false, status: 502, retryAfterSeconds: 0, detail: `a GPU worker rejected the request (${settled.status})`, attempts: tally.attempts };
      }
    } finally {
      clearTimeout(wholeDeadline);
      // Whatever still runs is no longer wanted: the caller has its answer.
      stop.abort();
    }
    return this.failure(body, tally, deadline, deadlineMs);
  }

  /**
   * How long one attempt on `url` may take before the next worker is asked: the base
   * (POOL_ATTEMPT_MS), the model's allowance, and the model's time per image for each call this edge
   * already has in flight there (the worker's queue as this edge sees it).
   */
  attemptDeadlineMs(url: string, msPerImage: number, extraMs = 0): number {
    const queued = this.inFlight.get(url) ?? 0;
    return this.options.attemptMs + extraMs + Math.ceil(msPerImage * queued);
  }

  /** The first of `attempts` to settle, or 'late' when none does within `ms`. */
  private async firstOf(attempts: Set<Promise<Settled>>, ms: number): Promise<Settled | 'late'> {
    if (attempts.size === 0) return 'late';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, ms))));
    try {
      return await Promise.race([...attempts, late]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** One call to one worker: what it answered, with its breaker and the tally kept up to date. */
  private async attempt(url: string, key: string, body: WorkerImageRequest, signal: AbortSignal, tally: Tally, late: { passed: boolean }): Promise<Settled> {
    const breaker = this.breakers.get(url)!;
    // Past its deadline the attempt already counted as a failure: what it ends with changes nothing.
    const isLate = () => late.passed;
    this.inFlight.set(url, (this.inFlight.get(url) ?? 0) + 1);
    try {
      const response = await this.fetch(url + WORKER_GENERATE_PATH, {
        method: 'POST',
        // The image key travels as a header too: a gateway in front of many workers hashes on it
        // (infra/gateway), so that every edge sends one key to one worker.
        headers: Object.assign({}, this.options.headers, { 'content-type': 'application/json', [WORKER_SECRET_HEADER]: this.options.secret, [IMAGE_KEY_HEADER]: key }),
        body: JSON.stringify(body),
        signal,
      });
      if (response.ok) {
        const answered = response.headers.get(IMAGE_KEY_HEADER);
        if (answered !== key) {
          // Another image than the one asked for (a worker keying differently: a bug or a contract
          // skew). Never served or cached under this key; the worker counts as failing.
          await response.body?.cancel();
          breaker.failure(this.now());
          tally.wrongKey = true;
          this.log({ event: 'worker-key-mismatch', worker: url, key: key.slice(0, 12), answered: answered?.slice(0, 12) ?? null });
          return { kind: 'wrong-key' };
        }
        const image = { body: new Uint8Array(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? 'image/png' };
        // A late answer is served, but does not make up for the deadline it missed.
        if (!isLate()) breaker.success();
        return { kind: 'image', image, worker: url };
      }
      if (response.status === 503 && response.headers.get('content-type')?.startsWith('application/problem+json')) {
        // Storage failing the worker is not the worker being busy: the caller is told which is down.
        const type = await response
          .json()
          .then((problem) => (problem as { type?: unknown }).type)
          .catch(() => undefined);
        if (type === WORKER_STORAGE_PROBLEM_TYPE) {
          breaker.release();
          tally.storage += 1;
          tally.retryAfterSeconds = Math.max(tally.retryAfterSeconds, Number(response.headers.get('retry-after')) || 1);
          return { kind: 'storage' };
        }
      }
      await response.body?.cancel();
      if (response.status === 400 || response.status === 401 || response.status === 403) {
        // The worker is alive but refuses what we sent: a bug or a secret mismatch, not load.
        breaker.success();
        return { kind: 'rejected', status: response.status };
      }
      if (response.status === 503) {
        // Busy is not broken: no breaker failure, just the next worker.
        breaker.release();
        tally.busy += 1;
        tally.retryAfterSeconds = Math.max(tally.retryAfterSeconds, Number(response.headers.get('retry-after')) || 1);
        return { kind: 'busy' };
      }
      if (response.status === 409) {
        // A healthy worker serving another version of the model (a rolling deploy): the next one
        // may serve this version, and this worker stays as trusted as it was.
        breaker.release();
        tally.otherVersion += 1;
        return { kind: 'other-version' };
      }
      if (!isLate()) breaker.failure(this.now());
      return { kind: 'failed' };
    } catch {
      // Aborted because the request was answered elsewhere or its deadline passed: not this worker's failure twice.
      if (!signal.aborted && !isLate()) breaker.failure(this.now());
      else if (!isLate()) breaker.release();
      return { kind: 'failed' };
    } finally {
      this.inFlight.set(url, this.inFlight.get(url)! - 1);
    }
  }

  /** The outcome when no attempt brought an image. */
  private failure(body: WorkerImageRequest, tally: Tally, deadline: number, deadlineMs: number): PoolOutcome {
    const { workerUrls } = this.options;
    const { attempts } = tally;
    if (this.now() >= deadline || tally.timedOut > 0) return this.timeout(attempts, deadlineMs);
    if (attempts === 0 && tally.atLimit > 0) {
      return { ok: false, status: 503, retryAfterSeconds: 1, detail: `every available GPU worker already has ${this.options.maxInFlight} requests in flight`, attempts };
    }
    if (attempts === 0) {
      const soonest = Math.min(...workerUrls.map((u) => this.breakers.get(u)!.retryInMs(this.now())));
      return { ok: false, status: 503, retryAfterSeconds: Math.max(1, Math.ceil(soonest / 1000)), detail: 'every GPU worker is unavailable (circuit open)', attempts };
    }
    const couldNotTake: PoolOutcome = { ok: false, status: 503, retryAfterSeconds: tally.retryAfterSeconds, detail: 'no GPU worker could take the request', attempts };
    if (tally.storage > 0 && tally.busy === 0) {
      return { ok: false, status: 503, retryAfterSeconds: tally.retryAfterSeconds, detail: 'object storage is unavailable: the GPU workers could not read or write the image', attempts, dependency: 'storage' };
    }
    if (tally.busy > 0) return couldNotTake;
    if (tally.otherVersion > 0 && tally.otherVersion === attempts) {
      return {
        ok: false,
        status: 503,
        retryAfterSeconds: VERSION_SKEW_RETRY_AFTER_SECONDS,
        detail: `no GPU worker serves model ${body.request.model} version ${body.modelVersion} (the workers run another version of it, as during a deploy)`,
        attempts,
      };
    }
    if (tally.wrongKey) return { ok: false, status: 502, retryAfterSeconds: 0, detail: 'a GPU worker answered with an image other than the one asked for', attempts };
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
            headers: Object.assign({}, this.options.headers, { [WORKER_SECRET_HEADER]: this.options.secret }),
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
