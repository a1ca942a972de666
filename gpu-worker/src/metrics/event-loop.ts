// The main thread's event loop as the metrics report it: how late its timers run (delay p99) and
// how much of the time it is busy (utilization), each over the window since the previous scrape.
//
// perf_hooks.monitorEventLoopDelay records the interval between the ticks of a repeating timer,
// not how late each tick was: an idle loop sampled every 10 ms reads about 10 ms, and so does
// prom-client's imf_worker_nodejs_eventloop_lag_p99_seconds built on it. The delay a request
// feels is what lies beyond the timer's period, so that period is taken off here.
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** The sampling timer's period (prom-client's default precision too). */
export const LOOP_SAMPLE_MS = 10;

/** The p99 of how late the sampling timer ran, in ms: the interval histogram's p99 less its period, never below 0. */
export function delayP99Ms(intervals: Pick<IntervalHistogram, 'percentile' | 'count'>, periodMs = LOOP_SAMPLE_MS): number {
  if (intervals.count === 0) return 0;
  return Math.max(0, intervals.percentile(99) / 1e6 - periodMs);
}

/** Registers the two gauges; each scrape reads the window since the previous one and starts the next. */
export function registerEventLoopMetrics(registry: Registry): void {
  const intervals = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  intervals.enable();
  let busySince: EventLoopUtilization = performance.eventLoopUtilization();

  new Gauge({
    name: 'imf_worker_event_loop_delay_p99_seconds',
    help: `p99 of how late the main thread ran a timer due every ${LOOP_SAMPLE_MS} ms, since the last scrape (0 on an idle loop)`,
    registers: [registry],
    collect() {
      this.set(delayP99Ms(intervals) / 1000);
      intervals.reset();
    },
  });

  new Gauge({
    name: 'imf_worker_event_loop_utilization',
    help: 'Share of the time since the last scrape that the main thread spent running callbacks rather than waiting for events',
    registers: [registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, busySince).utilization);
      busySince = now;
    },
  });
}
