// The worker's internal HTTP API (functions/src/contract/worker-api.ts), on Hono: POST /v1/generate
// for the edge only (shared secret, compared in constant time), /healthz, /readyz and /metrics.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { issuesFromZod, type ParamIssue } from '@imf/contract';
import {
  IMAGE_KEY_HEADER,
  OBJECT_KEY_HEADER,
  WORKER_GENERATE_PATH,
  WORKER_READY_PATH,
  WORKER_SECRET_HEADER,
  workerGenerateBodySchema,
  type WorkerBatchResponse,
  type WorkerImageRequest,
} from '@imf/contract';
import type { Admission } from '../admission/index.js';
import { WorkerError, type WorkerErrorKind } from '../errors.js';
import type { GeneratedImage, ImageGenerator, ServedModel } from '../generate/index.js';
import type { Logger } from '../logging/index.js';
import type { WorkerMetrics } from '../metrics/index.js';
import { readBody } from './body.js';
import type { RefusedModel } from '../models/discover.js';
import { IMMUTABLE_CACHE_CONTROL } from '../storage/types.js';

export type Phase = 'starting' | 'ready' | 'draining';

/** What the API needs from the running worker. */
export interface WorkerState {
  phase(): Phase;
  generator(): ImageGenerator | undefined;
  refused(): RefusedModel[];
}

export interface AppOptions {
  secret: string;
  maxBodyBytes: number;
  metrics: WorkerMetrics;
  log: Logger;
  /** Sheds new generation requests while the worker is behind; none: every request enters. */
  admission?: Admission;
}

const STATUS: Record<WorkerErrorKind, 400 | 409 | 500 | 503> = {
  'bad-request': 400,
  'wrong-model': 409,
  'queue-full': 503,
  overloaded: 503,
  deadline: 503,
  'not-ready': 503,
  storage: 503,
  inference: 500,
};

const TITLES: Record<WorkerErrorKind | 'unauthorized' | 'payload-too-large' | 'not-found', string> = {
  'bad-request': 'Invalid generation request',
  'wrong-model': 'Model or version not served here',
  'queue-full': 'Worker saturated',
  overloaded: 'Worker behind',
  deadline: 'Deadline exceeded while queued',
  'not-ready': 'Worker not ready',
  storage: 'Object storage unavailable',
  inference: 'Inference failed',
  unauthorized: 'Missing or wrong worker secret',
  'payload-too-large': 'Request body too large',
  'not-found': 'No such route',
};

function problem(c: Context, kind: keyof typeof TITLES, status: number, detail: string, extra: { errors?: ParamIssue[]; retryAfter?: number } = {}): Response {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  if (extra.retryAfter !== undefined) headers['retry-after'] = String(extra.retryAfter);
  const body = { type: `urn:imf:worker:${kind}`, title: TITLES[kind], status, detail, ...(extra.errors ? { errors: extra.errors } : {}) };
  return c.newResponse(JSON.stringify(body), status as 400, headers);
}

function errorResponse(c: Context, error: WorkerError): Response {
  const status = STATUS[error.kind];
  return problem(c, error.kind, status, error.message, status === 503 ? { retryAfter: error.retryAfterSeconds } : {});
}

/** Equal-time comparison of the presented secret: both sides hashed first, so lengths leak nothing either. */
function secretMatches(presented: string | undefined, secret: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

function describeModel(m: ServedModel) {
  return { id: m.manifest.id, version: m.manifest.version, executionProvider: m.executionProvider, alive: m.alive(), queueDepth: m.batcher.depth };
}

/** Per request: its id, its logger, and what the request log line should add (keys and sources of images). */
type Env = { Variables: { requestId: string; log: Logger; logDetail?: Record<string, unknown> } };

export function createApp(state: WorkerState, options: AppOptions): Hono<Env> {
  const app = new Hono<Env>();
  const { metrics } = options;

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    const log = options.log.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    const started = performance.now();
    await next();
    c.header('x-request-id', requestId);
    const route = c.req.routePath === '*' ? 'other' : c.req.routePath;
    metrics.requests.inc({ route, status: String(c.res.status) });
    if (route !== '/metrics' && route !== '/healthz') {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms, ...c.get('logDetail') }, 'request');
    }
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get(WORKER_READY_PATH, async (c) => {
    const phase = state.phase();
    const generator = state.generator();
    const storageReady = generator ? await generator.store.ready() : false;
    const modelsAlive = generator?.servedModels.every((m) => m.alive()) ?? false;
    const ready = phase === 'ready' && storageReady && modelsAlive;
    const body = {
      status: ready ? 'ready' : phase !== 'ready' ? phase : !modelsAlive ? 'inference-failed' : 'storage-unavailable',
      models: generator?.servedModels.map(describeModel) ?? [],
      refused: state.refused().map((r) => ({ folder: r.dir, reason: r.reason })),
      storage: { kind: generator?.store.kind ?? 'unknown', ready: storageReady },
    };
    if (!ready) c.header('retry-after', '5');
    return c.json(body, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    c.header('content-type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  app.post(
    WORKER_GENERATE_PATH,
    async (c, next) => {
      if (!secretMatches(c.req.header(WORKER_SECRET_HEADER), options.secret)) {
        return problem(c, 'unauthorized', 401, `send the shared secret in ${WORKER_SECRET_HEADER}`);
      }
      await next();
    },
    // Admission before the body is read: under overload a refusal must cost next to nothing.
    async (c, next) => {
      const admission = options.admission;
      if (!admission) return next();
      const admitted = admission.enter();
      if (!admitted.ok) {
        const waited = Math.round(admitted.oldestMs);
        return errorResponse(c, new WorkerError('overloaded', `the worker is behind: its oldest request in progress has waited ${waited} ms`, admitted.retryAfterSeconds));
      }
      try {
        await next();
      } finally {
        admission.leave(admitted.ticket);
      }
    },
    async (c) => {
      const generator = state.generator();
      const phase = state.phase();
      if (phase !== 'ready' || !generator) {
        if (phase === 'draining') c.header('connection', 'close');
        return errorResponse(c, new WorkerError('not-ready', phase === 'draining' ? 'the worker is shutting down' : 'the worker is still loading its models', 5));
      }
      const body = await readBody(c, options.maxBodyBytes);
      if (!body.ok) {
        c.header('connection', 'close'); // the rest of an oversized body is not worth reading
        return problem(c, 'payload-too-large', 413, `the body may hold at most ${options.maxBodyBytes} bytes`);
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength).toString('utf8'));
      } catch {
        return problem(c, 'bad-request', 400, 'the body must be JSON: { "requests": [ … ] }');
      }
      const parsed = workerGenerateBodySchema.safeParse(json, { reportInput: true });
      if (!parsed.success) {
        const errors = issuesFromZod(parsed.error);
        return problem(c, 'bad-request', 400, errors.map((e) => `${e.parameter}: ${e.detail}`).join('; '), { errors });
      }
      const requests = parsed.data.requests as WorkerImageRequest[];

      // Check every request before generating any: a bad one (400) outranks one for another model (409).
      const asWorkerError = (error: unknown) => (error instanceof WorkerError ? error : new WorkerError('inference', 'image generation failed'));
      const checks = await Promise.allSettled(requests.map((r) => generator.check(r)));
      const refusals = checks.flatMap((r) => (r.status === 'rejected' ? [asWorkerError(r.reason)] : []));
      if (refusals.length > 0) {
        return errorResponse(c, refusals.find((e) => e.kind === 'bad-request') ?? refusals[0]!);
      }
      const served = checks.map((r) => (r as PromiseFulfilledResult<ServedModel>).value);
      const results = await Promise.allSettled(requests.map((r, i) => generator.generate(r, served[i]!)));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failures.length > 0) {
        const error = asWorkerError(failures[0]);
        c.get('log').warn({ kind: error.kind, err: error.message }, 'generation failed');
        return errorResponse(c, error);
      }
      const images = results.map((r) => (r as PromiseFulfilledResult<GeneratedImage>).value);
      c.set('logDetail', { keys: images.map((i) => i.key), sources: images.map((i) => i.source) });
      if (images.length === 1) {
        const image = images[0]!;
        return c.body(image.body as Uint8Array<ArrayBuffer>, 200, {
          'content-type': image.contentType,
          'cache-control': IMMUTABLE_CACHE_CONTROL,
          [IMAGE_KEY_HEADER]: image.key,
          [OBJECT_KEY_HEADER]: image.objectKey,
        });
      }
      const batch: WorkerBatchResponse = {
        images: images.map((i) => ({ key: i.key, objectKey: i.objectKey, contentType: i.contentType, data: Buffer.from(i.body).toString('base64') })),
      };
      return c.json(batch);
    },
  );

  app.notFound((c) => problem(c, 'not-found', 404, `no route ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    if (error instanceof WorkerError) return errorResponse(c, error);
    c.get('log')?.error({ err: error }, 'unhandled error');
    return problem(c, 'inference', 500, 'internal error');
  });
  return app;
}
