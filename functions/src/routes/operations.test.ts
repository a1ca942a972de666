// /readyz's check runs at most once per READY_CACHE_MS however many callers poll it.
import { describe, expect, it } from 'vitest';
import { cachedCheck, READY_CACHE_MS } from './operations.js';

describe('readiness check cache', () => {
  it('shares one check among the callers within its time, and checks again after it', async () => {
    let clock = 0;
    let checks = 0;
    const check = cachedCheck(async () => ++checks, READY_CACHE_MS, () => clock);
    expect(await Promise.all([check(), check(), check()])).toEqual([1, 1, 1]);
    clock = READY_CACHE_MS - 1;
    expect(await check()).toBe(1);
    clock = READY_CACHE_MS;
    expect(await check()).toBe(2);
    expect(checks).toBe(2);
  });

  it('does not keep a check that failed', async () => {
    let fail = true;
    const check = cachedCheck(async () => {
      if (fail) throw new Error('down');
      return 'ok';
    }, READY_CACHE_MS, () => 0);
    await expect(check()).rejects.toThrow('down');
    fail = false;
    expect(await check()).toBe('ok');
  });
});
