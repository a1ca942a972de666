// Token buckets in a Durable Object (Workers): one object per identity, so every edge location
// sees the same bucket. The object keeps the bucket in memory and in its storage across evictions,
// and beside it the identity's usage book (usage.ts), one storage entry per minute slot.
//
// Asking the object on every request costs a round trip that, measured on workerd, cut a cached
// image's requests/s to a sixth. So each isolate leases tokens in batches (lease.ts) and spends
// them locally; the object still hands out no more tokens than the bucket holds. What an isolate
// spent comes with its next ask.
import { DurableObject } from 'cloudflare:workers';
import { leaseTokens, type BucketState } from '../token-bucket.js';
import type { BucketPolicy, RateDecision, RateLimiter } from '../types.js';
import { UsageBook, type UsageDelta, type UsageReport, type UsageRow } from '../usage.js';
import { leasingRateLimiter, type LeaseRequest } from './lease.js';

const SLOT_PREFIX = 'usage:';

export class RateLimiterObject extends DurableObject {
  private bucket: BucketState | undefined;
  private book: UsageBook | undefined;

  async lease(policy: BucketPolicy, request: LeaseRequest): Promise<{ decision: RateDecision; granted: number }> {
    this.bucket ??= await this.ctx.storage.get<BucketState>('bucket');
    const { state, decision, granted } = leaseTokens(this.bucket, policy, request, Date.now());
    this.bucket = state;
    // Not awaited: the output gate holds the response until the write is durable.
    void this.ctx.storage.put('bucket', state);
    if (request.usage && request.usage.length > 0) await this.record(request.usage);
    return { decision, granted };
  }

  async usage(pending: UsageDelta[]): Promise<UsageReport> {
    await this.record(pending);
    return (await this.loadBook()).report(Date.now());
  }

  private async loadBook(): Promise<UsageBook> {
    if (this.book) return this.book;
    const book = new UsageBook();
    for (const [name, rows] of await this.ctx.storage.list<UsageRow[]>({ prefix: SLOT_PREFIX })) {
      const slot = Number(name.slice(SLOT_PREFIX.length));
      for (const row of rows) book.add({ ...row, slot });
    }
    this.book = book;
    return book;
  }

  /** Books the deltas, writes the slots they touched and drops those older than a day. */
  private async record(deltas: readonly UsageDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    const book = await this.loadBook();
    for (const delta of deltas) book.add(delta);
    const touched = new Set(deltas.map((d) => d.slot));
    const dropped = book.prune(Date.now());
    const writes: Record<string, UsageRow[]> = {};
    for (const slot of touched) {
      const rows = book.slots.get(slot);
      if (rows) writes[`${SLOT_PREFIX}${slot}`] = [...rows.values()];
    }
    void this.ctx.storage.put(writes);
    if (dropped.length > 0) void this.ctx.storage.delete(dropped.map((slot) => `${SLOT_PREFIX}${slot}`));
  }
}

/** The limiter of one isolate: leases from the identity's object, spends locally; `books`: keep usage books. */
export function durableObjectRateLimiter(namespace: DurableObjectNamespace<RateLimiterObject>, now: () => number = Date.now, books = true): RateLimiter {
  const stub = (identity: string) => namespace.get(namespace.idFromName(identity));
  return leasingRateLimiter(
    {
      lease: (identity, policy, request) => stub(identity).lease(policy, request),
      usage: (identity, pending) => stub(identity).usage(pending),
    },
    now,
    10_000,
    books,
  );
}
