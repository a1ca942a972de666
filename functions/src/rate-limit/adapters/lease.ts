// Spending leased tokens locally: one isolate's side of the Durable Object limiter. It asks the
// bucket's owner only when its lease is spent or stale, and sizes the next lease by demand, like
// TCP's slow start: a lease spent before it expired doubles the next one; a lease that expired
// half-used shrinks it to what was used. Leases stay small against what the bucket has left (a
// quarter of it), so near the limit every request asks and the limit is exact where it matters.
// What a lease held back is never spent twice: it leaves the bucket when leased and unspent tokens
// go back with the next lease; only an isolate that dies holding a lease loses it (≤ MAX_LEASE).
// What the isolate spent goes to the owner's usage book: a generation's charge or refund at once
// (one more round trip on a path that waits for a worker anyway), the rest with the next ask (a
// lease, a refund, a usage read), so other isolates' one-token answers lag by at most a lease each.
import type { BucketPolicy, RateDecision, RateLimiter } from '../types.js';
import { NO_IMAGE, usageDelta, type UsageDelta, type UsageReport } from '../usage.js';

export interface LeaseRequest {
  cost: number;
  want: number;
  refund: number;
  /** What was spent (and given back) since the last ask, for the owner's usage book. */
  usage?: UsageDelta[];
}

export type LeaseSource = (identity: string, policy: BucketPolicy, request: LeaseRequest) => Promise<{ decision: RateDecision; granted: number }>;

/** The bucket's owner: leases, and the usage book it keeps beside the bucket. */
export interface LeaseOwner {
  lease: LeaseSource;
  /** Books `pending`, then reports the identity's usage. */
  usage(identity: string, pending: UsageDelta[]): Promise<UsageReport>;
}

/** The most tokens one isolate holds for one identity. */
export const MAX_LEASE = 64;
/** How long leased tokens may be spent before they go back: an idle isolate must not hoard them. */
export const LEASE_TTL_MS = 2000;

interface Lease {
  tokens: number;
  used: number;
  expiresAt: number;
  /** The size asked for; the next ask grows or shrinks from it. */
  size: number;
  /** What the owner reported when it granted the lease (its remaining excludes the lease). */
  decision: RateDecision;
  renewing?: Promise<void>;
}

/** `books`: whether spending is booked for usage reads (off for buckets nobody reads, e.g. client addresses). */
export function leasingRateLimiter(owner: LeaseSource | LeaseOwner, now: () => number = Date.now, maxIdentities = 10_000, books = true): RateLimiter {
  const source = typeof owner === 'function' ? owner : owner.lease;
  const leases = new Map<string, Lease>();
  /** Usage not yet sent to the owner, per identity. */
  const pending = new Map<string, UsageDelta[]>();
  const book = (identity: string, delta: UsageDelta) => {
    if (!books) return;
    const list = pending.get(identity);
    if (list) list.push(delta);
    else pending.set(identity, [delta]);
    if (pending.size > maxIdentities) pending.delete(pending.keys().next().value!);
  };
  /** The identity's unsent usage, taken out; `restore` puts it back when the ask fails. */
  const drain = (identity: string) => {
    const taken = pending.get(identity) ?? [];
    pending.delete(identity);
    return { taken, restore: () => taken.forEach((d) => book(identity, d)) };
  };
  /** Sends the identity's unsent usage (and `refund` tokens) to the owner now. */
  const send = async (identity: string, policy: BucketPolicy, refund: number) => {
    const usage = drain(identity);
    if (usage.taken.length === 0 && refund === 0) return;
    try {
      await source(identity, policy, { cost: 0, want: 0, refund, usage: usage.taken });
    } catch (error) {
      usage.restore();
      throw error;
    }
  };

  async function renew(identity: string, policy: BucketPolicy, cost: number, old: Lease | undefined): Promise<{ decision: RateDecision; lease: Lease }> {
    const stale = old !== undefined && now() >= old.expiresAt;
    const demand = !old ? 1 : stale ? Math.max(1, old.used) : old.size * 2;
    const want = Math.max(cost, Math.min(MAX_LEASE, demand, Math.floor(old ? old.decision.remaining / 4 : policy.burst / 4)));
    const refund = old ? old.tokens : 0;
    const usage = drain(identity);
    let answer: { decision: RateDecision; granted: number };
    try {
      answer = await source(identity, policy, { cost, want, refund, usage: usage.taken });
    } catch (error) {
      usage.restore();
      throw error;
    }
    const { decision, granted } = answer;
    const lease: Lease = { tokens: granted, used: 0, expiresAt: now() + LEASE_TTL_MS, size: Math.max(granted, cost), decision };
    leases.delete(identity);
    leases.set(identity, lease);
    if (leases.size > maxIdentities) leases.delete(leases.keys().next().value!);
    return { decision, lease };
  }

  return {
    async take(identity, policy, cost = 1, line = NO_IMAGE) {
      for (;;) {
        const lease = leases.get(identity);
        if (lease?.renewing) {
          await lease.renewing;
          continue;
        }
        if (lease && now() < lease.expiresAt && lease.tokens >= cost) {
          lease.tokens -= cost;
          lease.used += cost;
          book(identity, usageDelta(line, cost, now()));
          if (books && line.generations > 0) await send(identity, policy, 0);
          return { ...lease.decision, allowed: true, remaining: lease.decision.remaining + Math.floor(lease.tokens), retryAfterSeconds: 0 };
        }
        // One renewal per identity at a time: concurrent requests wait for it, then spend from it.
        let settle!: () => void;
        const placeholder: Lease = lease ?? { tokens: 0, used: 0, expiresAt: 0, size: 0, decision: { allowed: false, limit: policy.burst, remaining: policy.burst, resetSeconds: 0, retryAfterSeconds: 0 } };
        placeholder.renewing = new Promise<void>((resolve) => (settle = resolve));
        leases.set(identity, placeholder);
        try {
          const { decision, lease: fresh } = await renew(identity, policy, cost, lease);
          if (!decision.allowed) return decision;
          fresh.tokens -= cost;
          fresh.used += cost;
          book(identity, usageDelta(line, cost, now()));
          if (books && line.generations > 0) await send(identity, policy, 0);
          return { ...decision, remaining: decision.remaining + Math.floor(fresh.tokens) };
        } catch (error) {
          if (leases.get(identity) === placeholder) leases.delete(identity);
          throw error;
        } finally {
          placeholder.renewing = undefined;
          settle();
        }
      }
    },
    async refund(identity, policy, tokens, line) {
      let lease = leases.get(identity);
      while (lease?.renewing) {
        await lease.renewing;
        lease = leases.get(identity);
      }
      book(identity, usageDelta(line, tokens, now(), true));
      // A live lease takes the tokens back and returns them with its next ask; without one, the owner does now.
      const live = lease !== undefined && now() < lease.expiresAt;
      if (live) lease!.tokens += tokens;
      if (!live || (books && line.generations > 0)) await send(identity, policy, live ? 0 : tokens);
    },
    async usage(identity) {
      if (typeof owner === 'function') throw new Error('this limiter keeps no usage book');
      const usage = drain(identity);
      try {
        return await owner.usage(identity, usage.taken);
      } catch (error) {
        usage.restore();
        throw error;
      }
    },
  };
}
