// The cluster's routes: GET /healthz (alive), GET /readyz (models warm and alive, storage answering,
// not draining) and GET /metrics (Prometheus text).
import { WORKER_READY_PATH } from '@imf/contract';
import type { Hono } from 'hono';
import type { ServedModel } from '../generate/index.js';
import type { WorkerMetrics } from '../metrics/index.js';
import type { WorkerEnv, WorkerState } from './state.js';

function describeModel(m: ServedModel) {
  return {
    id: m.manifest.id,
    version: m.manifest.version,
    executionProvider: m.executionProvider,
    alive: m.alive(),
    queueDepth: m.batcher.depth,
  };
}

export function registerProbes(app: Hono<WorkerEnv>, state: WorkerState, metrics: WorkerMetrics): void {
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
}
