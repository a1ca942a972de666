// What the route modules share: the deployment's configuration and models, the caller checks, the
// resolver and the tiers, and the per-request helpers every route needs. Built once per app.
import type { Context } from 'hono';
import { canonicalPath, signPath, SIGNER_PARAM, windowedExpiry, type ImageReader, type ImageRequest, type ModelRegistry } from '@imf/contract';
import { generationPrice, imageLine, KEY_SIGNER, keyIdentity, PLAYGROUND_SIGNER, type Access } from '../access/index.js';
import { problem, problemResponse } from '../problem/index.js';
import { clientAddress, clientGroup, type RuntimeAddress } from '../access/client.js';
import type { EdgeConfig } from '../config/index.js';
import type { ImageResolver } from '../images/resolve.js';
import type { Defer, EdgeCounters, LookupImage, Tier } from '../images/tiers.js';
import type { LogSink } from '../observability/index.js';
import type { WorkerPool } from '../pool/index.js';

/** A generation admitted (with the refund of its charge, for when it fails) or refused. */
export type Admission = { ok: true; refund: () => Promise<void> } | { ok: false; response: Response };

/** What the image routes tell the request logger. */
export type TierVars = { Variables: { tier?: Tier } };

export interface RouteContext {
  config: EdgeConfig;
  registry: ModelRegistry;
  pool: WorkerPool;
  store: ImageReader | undefined;
  log: LogSink;
  access: Access;
  resolver: ImageResolver;
  lookup: LookupImage;
  counters: EdgeCounters;
  nowSeconds(): number;
  /**
   * The origin of URLs in responses: PUBLIC_ORIGIN; else the request's own when its host is in
   * ALLOWED_HOSTS; else '' (relative URLs), so a forged Host never ends up in a URL we hand out.
   */
  origin(c: Context): string;
  /** The client's address as the runtime (and trusted proxies) tell it, IPv6 by its /64 (clientGroup), for per-client budgets. */
  client(c: Context): string;
  /** Runs work after the response (waitUntil on Workers; on Node the promise finishes on its own). */
  defer(c: Context): Defer;
  /**
   * Before a signed URL's miss goes to the pool: charges the signer the price of generating
   * `request` (the API key's bucket; for a playground token, its generation budget and the
   * client's). The refusal, or how to give the charge back if the generation fails.
   */
  admitSignedGeneration(c: Context, signer: string, request: ImageRequest): Promise<Admission>;
  /**
   * A signed URL for the request's canonical path, valid for at least `ttlSeconds` (its expiry rounded
   * up to a multiple of `windowSeconds`, see windowedExpiry), charged to `signer`.
   */
  signedUrl(c: Context, request: ImageRequest, ttlSeconds: number, signer: string, windowSeconds?: number): Promise<{ url: string; expires: number }>;
}

const REVOKED_SIGNER = 'the API key that signed this URL is no longer valid: the URL serves images already generated, and generates none';

/** Whether `host` (`name` or `name:port`) is allowed: an entry without a port allows every port. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  // Exactly as listed: an entry without a port stands for the scheme's default port (which URL's
  // host leaves out), never for any port, so `img.example` does not allow `img.example:6666`.
  const name = host.toLowerCase();
  return allowed.includes(name);
}

export function routeContext(parts: Omit<RouteContext, 'origin' | 'client' | 'defer' | 'signedUrl' | 'admitSignedGeneration'> & { runtimeAddress: RuntimeAddress }): RouteContext {
  const { runtimeAddress, ...rest } = parts;
  const { config, access } = parts;
  const { publicOrigin, allowedHosts, trustedProxies } = config;
  const client = (c: Context) => clientGroup(clientAddress(c, runtimeAddress, trustedProxies));
  const origin = (c: Context) => {
    if (publicOrigin !== undefined) return publicOrigin;
    const url = new URL(c.req.url);
    return hostAllowed(url.host, allowedHosts) ? url.origin : '';
  };
  return {
    ...rest,
    origin,
    client,
    async admitSignedGeneration(c, signer, request) {
      if (signer.startsWith(KEY_SIGNER)) {
        const id = signer.slice(KEY_SIGNER.length);
        // Revocation reaches the URLs a key signed: they keep serving what exists, and generate nothing.
        if (!(await access.keyIdValid(id))) return { ok: false, response: problemResponse(problem('generation-refused', REVOKED_SIGNER, { errors: [{ parameter: SIGNER_PARAM, rule: 'format', detail: REVOKED_SIGNER }] })) };
        const price = generationPrice(request, config.rateLimit);
        const line = imageLine(request, 1, 1);
        const charged = await access.charge(keyIdentity(id), config.rateLimit, price, line);
        return charged.ok ? { ok: true, refund: () => access.refund(keyIdentity(id), config.rateLimit, price, line) } : charged;
      }
      if (signer.startsWith(PLAYGROUND_SIGNER)) {
        if (config.playground !== 'on') return { ok: false, response: problemResponse(problem('generation-refused', `the playground only shows images already generated (PLAYGROUND=${config.playground})`)) };
        const budget = config.playgroundGenerations;
        const price = generationPrice(request, budget);
        const line = imageLine(request, 1, 1);
        const buckets = [`pg-token:${signer.slice(PLAYGROUND_SIGNER.length)}`, `pg-client:${client(c)}`];
        const refund = (charged: string[]) => Promise.all(charged.map((b) => access.refundClient(b, budget, price, line))).then(() => undefined);
        const charged: string[] = [];
        for (const bucket of buckets) {
          const taken = await access.chargeClient(bucket, budget, price, line);
          if (!taken.ok) {
            await refund(charged);
            return taken;
          }
          charged.push(bucket);
        }
        return { ok: true, refund: () => refund(charged) };
      }
      return { ok: false, response: problemResponse(problem('generation-refused', 'the URL was signed for no one this edge can charge')) };
    },
    defer: (c) => (work) => {
      try {
        c.executionCtx.waitUntil(work);
      } catch {
        void work; // Node: no execution context.
      }
    },
    async signedUrl(c, request, ttlSeconds, signer, windowSeconds = 0) {
      const expires = windowedExpiry(parts.nowSeconds(), ttlSeconds, windowSeconds);
      return { url: origin(c) + (await signPath(canonicalPath(request), parts.config.signingKeys, expires, signer)), expires };
    },
  };
}
