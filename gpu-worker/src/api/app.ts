// The worker's internal HTTP API (the contract's worker-api.ts), on Hono: POST /v1/generate for the
// edge only (generate-route.ts), and /healthz, /readyz and /metrics for the cluster (probes.ts).
// Every request gets an id (the caller's x-request-id, or a fresh one), a logger and one log line.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { asWorkerError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import type { WorkerMetrics } from '../metrics/index.js';
import { registerGenerate, type GenerateRouteOptions } from './generate-route.js';
import { registerProbes } from './probes.js';
import { errorResponse, workerProblem } from './problems.js';
import type { WorkerEnv, WorkerState } from './state.js';

export type { Phase, WorkerState } from './state.js';

export interface AppOptions extends GenerateRouteOptions {
  metrics: WorkerMetrics;
  log: Logger;
}

export function createApp(state: WorkerState, options: AppOptions): Hono<WorkerEnv> {
  const app = new Hono<WorkerEnv>();
  const { metrics } = options;

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    const log = options.log.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    const started = performance.now();
    // Before the handler: the responses the context builds (c.body, c.json) take it as they are made.
    // Set afterwards, Hono rebuilds the finished response around its body as a stream, and
    // @hono/node-server then writes it through the stream path: about 70 µs more CPU per request
    // (a bare Hono app on @hono/node-server, 20k requests each way).
    c.header('x-request-id', requestId);
    await next();
    // Problems are plain Responses built outside the context (problems.ts): they get it here.
    if (c.res.status >= 400) c.header('x-request-id', requestId);
    const route = c.req.routePath === '*' ? 'other' : c.req.routePath;
    metrics.requests.inc({ route, status: String(c.res.status) });
    if (route !== '/metrics' && route !== '/healthz') {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms, ...c.get('logDetail') }, 'request');
    }
  });

  registerProbes(app, state, metrics);
  registerGenerate(app, state, options);

  app.notFound((c) => workerProblem('not-found', `no route ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    const known = asWorkerError(error);
    if (known.kind === 'internal') c.get('log')?.error({ err: error }, 'unhandled error');
    return errorResponse(known);
  });
  return app;
}
