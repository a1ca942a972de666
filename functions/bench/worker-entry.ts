// The Worker for the benchmark's workerd leg: /bare is a bare Hono route, everything else is the
// edge exactly as runtime/workers.ts builds it.
import { Hono } from 'hono';
import edge from '../src/runtime/workers.js';

export { RateLimiterObject } from '../src/runtime/workers.js';

const bare = new Hono().get('/bare', (c) => c.text('ok'));

export default {
  fetch(request: Request, env: Record<string, unknown>, ctx: ExecutionContext) {
    return new URL(request.url).pathname === '/bare' ? bare.fetch(request, env, ctx) : edge.fetch(request as never, env, ctx);
  },
};
