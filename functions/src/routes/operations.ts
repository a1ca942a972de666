// GET /healthz and GET /readyz: liveness, and readiness (a ready GPU worker, reachable storage),
// the latter checked at most once a second per process or isolate.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { documented } from '../openapi/document.js';
import type { RouteContext } from './context.js';

export const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const readiness = z.object({
  status: z.enum(['ready', 'unready']),
  pool: z.object({ ready: z.number().int(), total: z.number().int() }),
  storage: z.enum(['ready', 'unreachable', 'not-configured']),
  /** Stored objects refused since start (this process or isolate) because their integrity tag did not match. */
  integrity_failures: z.number().int(),
});

export const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: at least one GPU worker ready and storage reachable (checked at most once a second)',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: readiness } } },
    503: { description: 'Not ready', content: { 'application/json': { schema: readiness } } },
  },
});

/** How long one readiness check answers /readyz: a load balancer polling it costs no more than this. */
export const READY_CACHE_MS = 1000;

/**
 * `check`, run at most once per `ttlMs`: callers within that time share the last answer (or the
 * check in progress), so /readyz under many pollers calls each worker and storage about once a second.
 */
export function cachedCheck<T>(check: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; answer: Promise<T> } | undefined;
  return () => {
    const at = now();
    if (!last || at - last.at >= ttlMs) {
      const answer = check();
      last = { at, answer };
      // A check that throws is not kept: the next caller tries again.
      answer.catch(() => (last = undefined));
    }
    return last.answer;
  };
}

export function registerOperations(app: OpenAPIHono, { pool, store, counters }: RouteContext): void {
  const check = cachedCheck(async () => {
    const [workers, storageReady] = await Promise.all([pool.probe(), store ? store.ready() : Promise.resolve(undefined)]);
    return { readyWorkers: workers.filter((w) => w.ready).length, total: workers.length, storage: storageReady === undefined ? 'not-configured' : storageReady ? 'ready' : 'unreachable' } as const;
  }, READY_CACHE_MS);
  documented(app, healthz, (c) => c.json({ status: 'ok' as const }));
  documented(app, readyz, async (c) => {
    const { readyWorkers, total, storage } = await check();
    const ready = readyWorkers > 0 && storage !== 'unreachable';
    const body = { status: ready ? 'ready' : 'unready', pool: { ready: readyWorkers, total }, storage, integrity_failures: counters.storageIntegrityFailures } as const;
    return c.json(body, ready ? 200 : 503, { 'cache-control': 'no-store' });
  });
}
