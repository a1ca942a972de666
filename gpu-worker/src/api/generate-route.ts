// POST /v1/generate, the edge's call: the shared secret, admission by age (before the body is
// read), readiness, the body under its size bound, the contract's schema, the request checked and
// keyed (generate/check.ts), then the image bytes with the keys the worker derived.
import {
  IMAGE_KEY_HEADER,
  IMMUTABLE_CACHE_CONTROL,
  issuesFromZod,
  OBJECT_KEY_HEADER,
  WORKER_GENERATE_PATH,
  WORKER_SECRET_HEADER,
  workerImageRequestSchema,
} from '@imf/contract';
import type { Context, Hono, Next } from 'hono';
import type { Admission } from '../admission/index.js';
import type { CheckedWork } from '../generate/check.js';
import type { GeneratedImage } from '../generate/index.js';
import { asWorkerError, WorkerError } from '../errors.js';
import { readBody } from './body.js';
import { errorResponse, workerProblem } from './problems.js';
import { secretMatches } from './secret.js';
import type { WorkerEnv, WorkerState } from './state.js';

export interface GenerateRouteOptions {
  secret: string;
  maxBodyBytes: number;
  /** Sheds new generation requests while the worker is behind; none: every request enters. */
  admission?: Admission;
}

const roundTimings = (timings: Record<string, number>) => Object.fromEntries(Object.entries(timings).map(([step, ms]) => [step, Math.round(ms * 10) / 10]));

/** Closing after a refusal: an oversized body is not worth reading, a draining worker wants no reuse. */
const CLOSE = { connection: 'close' };

export function registerGenerate(app: Hono<WorkerEnv>, state: WorkerState, options: GenerateRouteOptions): void {
  const requireSecret = async (c: Context<WorkerEnv>, next: Next) => {
    if (!secretMatches(c.req.header(WORKER_SECRET_HEADER), options.secret)) return workerProblem('unauthorized', `send the shared secret in ${WORKER_SECRET_HEADER}`);
    await next();
  };

  // Admission before the body is read: under overload a refusal must cost next to nothing.
  const admit = async (c: Context<WorkerEnv>, next: Next) => {
    const admission = options.admission;
    if (!admission) return next();
    const admitted = admission.enter();
    if (!admitted.ok) {
      const waited = Math.round(admitted.oldestMs);
      return errorResponse(new WorkerError('overloaded', `the worker is behind: its oldest request in progress has waited ${waited} ms`, admitted.retryAfterSeconds));
    }
    c.set('admissionTicket', admitted.ticket);
    try {
      await next();
    } finally {
      admission.leave(admitted.ticket);
    }
  };

  app.post(WORKER_GENERATE_PATH, requireSecret, admit, async (c) => {
    const generator = state.generator();
    const phase = state.phase();
    if (phase !== 'ready' || !generator) {
      const draining = phase === 'draining';
      return errorResponse(new WorkerError('not-ready', draining ? 'the worker is shutting down' : 'the worker is still loading its models', 5), draining ? CLOSE : {});
    }
    const body = await readBody(c, options.maxBodyBytes);
    if (!body.ok) return workerProblem('payload-too-large', `the body may hold at most ${options.maxBodyBytes} bytes`, CLOSE);
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength).toString('utf8'));
    } catch {
      return workerProblem('bad-request', 'the body must be JSON: { "request": { … }, "modelVersion": "…" }');
    }
    const parsed = workerImageRequestSchema.safeParse(json, { reportInput: true });
    if (!parsed.success) {
      const errors = issuesFromZod(parsed.error);
      return workerProblem('bad-request', errors.map((e) => `${e.parameter}: ${e.detail}`).join('; '), {}, errors);
    }
    let checked: CheckedWork;
    try {
      checked = await generator.check(parsed.data);
    } catch (error) {
      return errorResponse(asWorkerError(error));
    }
    const { work, served } = checked;
    const ticket = c.get('admissionTicket');
    if (ticket !== undefined) options.admission?.allow(ticket, generator.allowanceMs(served.manifest.id));

    let image: GeneratedImage;
    try {
      image = await generator.generate(work, served);
    } catch (failure) {
      const error = asWorkerError(failure);
      // An unexpected error keeps its own message for the log; the caller gets the general one.
      c.get('log').warn({ kind: error.kind, err: (failure as Error)?.message ?? String(failure) }, 'generation failed');
      return errorResponse(error);
    }
    c.set('logDetail', { key: image.key, source: image.source, ...(image.timings ? { timings: roundTimings(image.timings) } : {}) });
    return c.body(image.body as Uint8Array<ArrayBuffer>, 200, {
      'content-type': image.contentType,
      'cache-control': IMMUTABLE_CACHE_CONTROL,
      [IMAGE_KEY_HEADER]: image.key,
      [OBJECT_KEY_HEADER]: image.objectKey,
      // Where a generated image's time went, per stage (each stage's wait for its batch included).
      ...(image.timings ? { 'server-timing': Object.entries(roundTimings(image.timings)).map(([step, ms]) => `${step};dur=${ms}`).join(', ') } : {}),
    });
  });
}
