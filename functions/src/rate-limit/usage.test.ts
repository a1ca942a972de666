// The usage book: the current minute apart from the last 24 hours, refunds taken back, old slots dropped.
import { describe, expect, it } from 'vitest';
import { UsageBook, usageDelta, USAGE_SLOT_SECONDS } from './usage.js';

const line = { model: 'm', size: 64, format: 'png', images: 1, generations: 1 };
const minute = USAGE_SLOT_SECONDS * 1000;

describe('usage book', () => {
  it('sums the current minute apart from the last 24 hours', () => {
    const book = new UsageBook();
    const now = 1_800_000_000_000;
    book.add(usageDelta(line, 3, now - 10 * minute));
    book.add(usageDelta(line, 5, now));
    const report = book.report(now);
    expect(report.window).toMatchObject({ tokens: 5, images: 1, generations: 1 });
    expect(report.last_24h).toMatchObject({ tokens: 8, images: 2, generations: 2 });
    expect(report.window.start).toBe(Math.floor(now / minute) * USAGE_SLOT_SECONDS);
  });

  it('takes a refund back from the same row', () => {
    const book = new UsageBook();
    book.add(usageDelta(line, 4, 0));
    book.add(usageDelta(line, 4, 0, true));
    expect(book.report(0).window).toMatchObject({ tokens: 0, images: 0, generations: 0, by: [] });
  });

  it('drops what is older than 24 hours', () => {
    const book = new UsageBook();
    const now = 1_800_000_000_000;
    book.add(usageDelta(line, 7, now - 24 * 60 * minute));
    book.add(usageDelta(line, 1, now - 23 * 60 * minute));
    expect(book.prune(now)).toHaveLength(1);
    expect(book.report(now).last_24h.tokens).toBe(1);
  });
});
