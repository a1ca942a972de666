// In-process token buckets (Node): one Map per process; idle full buckets are dropped. Each
// identity's usage book lives in the same entry, so what limits a key and what it sees it spent
// are one record.
import { refundTokens, takeTokens, type BucketState } from '../token-bucket.js';
import type { RateLimiter } from '../types.js';
import { NO_IMAGE, UsageBook, usageDelta } from '../usage.js';

interface Entry {
  bucket: BucketState | undefined;
  book: UsageBook;
}

/** `books`: whether spending is booked for usage reads (off for buckets nobody reads, e.g. client addresses). */
export function memoryRateLimiter(now: () => number = Date.now, maxIdentities = 100_000, books = true): RateLimiter {
  const entries = new Map<string, Entry>();
  /** The identity's entry, moved to the end (most recently used); the least recent goes past the bound. */
  const touch = (identity: string): Entry => {
    const entry = entries.get(identity) ?? { bucket: undefined, book: new UsageBook() };
    entries.delete(identity);
    entries.set(identity, entry);
    // Bounded memory: drop the least recently touched entry, the likeliest to have refilled.
    if (entries.size > maxIdentities) entries.delete(entries.keys().next().value!);
    return entry;
  };
  return {
    async take(identity, policy, cost = 1, line = NO_IMAGE) {
      const entry = touch(identity);
      const at = now();
      const { state, decision } = takeTokens(entry.bucket, policy, cost, at);
      entry.bucket = state;
      if (decision.allowed && books) {
        entry.book.add(usageDelta(line, cost, at));
        entry.book.prune(at);
      }
      return decision;
    },
    async refund(identity, policy, tokens, line) {
      const entry = touch(identity);
      const at = now();
      entry.bucket = refundTokens(entry.bucket, policy, tokens, at);
      if (books) entry.book.add(usageDelta(line, tokens, at, true));
    },
    async usage(identity) {
      const at = now();
      const entry = entries.get(identity);
      return (entry?.book ?? new UsageBook()).report(at);
    },
  };
}
