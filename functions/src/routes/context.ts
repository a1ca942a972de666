// What the route modules share: the deployment's configuration and models, the caller checks, the
// resolver and the tiers, and the per-request helpers every route needs. Built once per app.
import type { Context } from 'hono';
import { canonicalPath, signPath, type ImageRequest, type ModelRegistry } from '@imf/contract';
import type { Access } from '../access/index.js';
import type { EdgeConfig } from '../config/index.js';
import type { ImageResolver } from '../images/resolve.js';
import type { Defer, LookupImage, Tier } from '../images/tiers.js';
import type { LogSink } from '../observability/index.js';
import type { WorkerPool } from '../pool/index.js';
import type { ImageStore } from '../storage/types.js';

/** What the image routes tell the request logger. */
export type TierVars = { Variables: { tier?: Tier } };

export interface RouteContext {
  config: EdgeConfig;
  registry: ModelRegistry;
  pool: WorkerPool;
  store: ImageStore | undefined;
  log: LogSink;
  access: Access;
  resolver: ImageResolver;
  lookup: LookupImage;
  nowSeconds(): number;
  /** The origin of URLs in responses: PUBLIC_ORIGIN, else the request's own. */
  origin(c: Context): string;
  /** Runs work after the response (waitUntil on Workers; on Node the promise finishes on its own). */
  defer(c: Context): Defer;
  /** A signed URL for the request's canonical path, valid for `ttlSeconds`. */
  signedUrl(c: Context, request: ImageRequest, ttlSeconds: number): Promise<{ url: string; expires: number }>;
}

export function routeContext(parts: Omit<RouteContext, 'origin' | 'defer' | 'signedUrl'>): RouteContext {
  const origin = (c: Context) => parts.config.publicOrigin ?? new URL(c.req.url).origin;
  return {
    ...parts,
    origin,
    defer: (c) => (work) => {
      try {
        c.executionCtx.waitUntil(work);
      } catch {
        void work; // Node: no execution context.
      }
    },
    async signedUrl(c, request, ttlSeconds) {
      const expires = parts.nowSeconds() + ttlSeconds;
      return { url: origin(c) + (await signPath(canonicalPath(request), parts.config.signingKeys, expires)), expires };
    },
  };
}
