// Starts the edge on Node for the suites on a free port known in advance, so that ALLOWED_HOSTS can
// name 127.0.0.1 with its port (an entry without a port allows the default port only).
import { freePort } from '../../../infra/local/processes.mjs';
import { startNodeEdge, type RunningEdge } from '../../src/runtime/node.js';
import type { EdgeDeps } from '../../src/app.js';

export async function startTestNodeEdge(env: Record<string, string | undefined>, deps: Partial<EdgeDeps> = {}): Promise<RunningEdge> {
  const port = await freePort();
  const hosts = env.ALLOWED_HOSTS?.split(',').map((h) => (h === '127.0.0.1' ? `127.0.0.1:${port}` : h)).join(',');
  return startNodeEdge({ env: { ...env, ...(hosts !== undefined ? { ALLOWED_HOSTS: hosts } : {}) }, port, deps });
}
