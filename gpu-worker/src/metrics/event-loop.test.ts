import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { delayP99Ms, LOOP_SAMPLE_MS, registerEventLoopMetrics } from './event-loop.js';

const intervalsOf = (p99Ms: number, count = 100) => ({ count, percentile: () => p99Ms * 1e6 });

/** One scrape (it collects, and so restarts, both windows): the delay in seconds and the utilization. */
async function scrape(registry: Registry): Promise<{ delay: number; busy: number }> {
  const metrics = await registry.getMetricsAsJSON();
  const value = (name: string) => Number((metrics.find((m) => m.name === name) as { values: { value: number }[] }).values[0]!.value);
  return { delay: value('imf_worker_event_loop_delay_p99_seconds'), busy: value('imf_worker_event_loop_utilization') };
}

describe('the event-loop delay', () => {
  it("is the sampling timer's lateness: an idle loop's intervals of one period read 0, not the period", () => {
    expect(delayP99Ms(intervalsOf(LOOP_SAMPLE_MS + 0.2))).toBeCloseTo(0.2, 6);
    expect(delayP99Ms(intervalsOf(LOOP_SAMPLE_MS - 0.8))).toBe(0); // a timer may fire a hair early
    expect(delayP99Ms(intervalsOf(LOOP_SAMPLE_MS + 35))).toBeCloseTo(35, 6);
    expect(delayP99Ms(intervalsOf(0, 0))).toBe(0);
  });

  it('reads a blocked main thread in the window since the last scrape, and starts the next window', async () => {
    const registry = new Registry();
    registerEventLoopMetrics(registry);
    await scrape(registry); // starts the window
    await sleep(3 * LOOP_SAMPLE_MS);
    const until = performance.now() + 120;
    while (performance.now() < until); // the main thread busy for 120 ms
    await sleep(3 * LOOP_SAMPLE_MS);
    const blocked = await scrape(registry);
    expect(blocked.delay).toBeGreaterThan(0.08);
    expect(blocked.busy).toBeGreaterThan(0.4);

    await sleep(300);
    const idle = await scrape(registry);
    expect(idle.delay).toBeLessThan(blocked.delay / 2);
    expect(idle.busy).toBeLessThan(blocked.busy / 2);
  });
});
