// GET /healthz and GET /readyz: liveness, and readiness (a ready GPU worker, reachable storage).
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
  summary: 'Readiness: at least one GPU worker ready and storage reachable',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: readiness } } },
    503: { description: 'Not ready', content: { 'application/json': { schema: readiness } } },
  },
});

export function registerOperations(app: OpenAPIHono, { pool, store, counters }: RouteContext): void {
  documented(app, healthz, (c) => c.json({ status: 'ok' as const }));
  documented(app, readyz, async (c) => {
    const [workers, storageReady] = await Promise.all([pool.probe(), store ? store.ready() : Promise.resolve(undefined)]);
    const readyWorkers = workers.filter((w) => w.ready).length;
    const storage = storageReady === undefined ? 'not-configured' : storageReady ? 'ready' : 'unreachable';
    const ready = readyWorkers > 0 && storage !== 'unreachable';
    const body = { status: ready ? 'ready' : 'unready', pool: { ready: readyWorkers, total: workers.length }, storage, integrity_failures: counters.storageIntegrityFailures } as const;
    return c.json(body, ready ? 200 : 503, { 'cache-control': 'no-store' });
  });
}
