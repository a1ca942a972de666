// The stack benchmarks' phases, measured from outside: autocannon load against the edge, the
// worker's metrics, and the CPU time of each of the stack's processes (/proc).
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { TestStack } from '../e2e/support/stack.js';

export interface PhaseResult {
  ok: number;
  other: Record<string, number>;
  perSecond: number;
  p50: number;
  p99: number;
}

/**
 * autocannon (a light HTTP/1.1 client with keep-alive, so the load generator's own CPU stays small
 * beside the stack's) for `seconds` (or `amount` requests) at `concurrency`: request i GETs `path(i)`.
 */
export async function cannon(url: string, apiKey: string, path: (i: number) => string, seconds: number, concurrency: number, first = 0, amount?: number): Promise<PhaseResult & { next: number }> {
  let next = first;
  const result = await autocannon({
    url,
    connections: concurrency,
    ...(amount ? { amount } : { duration: seconds }),
    timeout: 30,
    headers: { authorization: `Bearer ${apiKey}` },
    requests: [{ method: 'GET', setupRequest: (request: Record<string, unknown>) => ({ ...request, path: path(next++) }) }],
  });
  const other: Record<string, number> = {};
  for (const [status, count] of Object.entries(result.statusCodeStats ?? {})) if (status !== '200') other[status] = (count as { count: number }).count;
  if (result.errors > 0) other.error = result.errors;
  if (result.timeouts > 0) other.timeout = result.timeouts;
  const ok = (result.statusCodeStats?.['200'] as { count: number } | undefined)?.count ?? 0;
  return { ok, other, perSecond: ok / result.duration, p50: result.latency.p50, p99: result.latency.p99, next };
}

/** The worker's storage calls so far, by operation (its imf_worker_storage_seconds histogram counts). */
export async function workerStorageCalls(workerUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${workerUrl}/metrics`)).text();
  const calls: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^imf_worker_storage_seconds_count\{([^}]*)\} (\d+)/.exec(line);
    if (!match) continue;
    const operation = /operation="([^"]+)"/.exec(match[1]!)?.[1] ?? 'all';
    calls[operation] = (calls[operation] ?? 0) + Number(match[2]);
  }
  return calls;
}

/** CPU seconds (user + system) of a process and all its descendants, from /proc (Linux). */
export function treeCpuSeconds(root: number): number {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command name: state ppid … utime(14) stime(15), in clock ticks.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
      cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the process ended while we looked
    }
  }
  const inTree = (pid: number): boolean => pid === root || (parents.has(pid) && pid !== 1 && inTree(parents.get(pid)!));
  return [...cpu].filter(([pid]) => inTree(pid)).reduce((sum, [, seconds]) => sum + seconds, 0);
}

export interface ServiceCpu {
  name: string;
  seconds(): number;
}

/** What each of the stack's processes (by service name) is in the tables. */
const SERVICE_LABELS: Record<string, string> = { edge: 'edge (Node)', 'worker-0': 'worker-0 (inference + HTTP + encode + put)', s3: 'SeaweedFS' };

/** The stack's processes (edge, worker, storage; found again after a restart) and this one, the load generator. */
export function cpuMeters(stack: TestStack): ServiceCpu[] {
  const pidOf = (name: string) => stack.processes().find((p) => p.name === name)?.pid;
  return [
    ...Object.entries(SERVICE_LABELS).map(([service, name]) => ({ name, seconds: () => { const pid = pidOf(service); return pid === undefined ? 0 : treeCpuSeconds(pid); } })),
    { name: 'load generator (this process)', seconds: () => { const used = process.cpuUsage(); return (used.user + used.system) / 1e6; } },
  ];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Between phases: autocannon stops at its deadline, and the requests it abandoned still run in the stack. */
export const settle = () => sleep(2000);

export const others = (counts: Record<string, number>) => Object.entries(counts).map(([status, n]) => `${n}×${status}`).join(' ') || '–';


/** One value of a Prometheus text exposition (the first series of that name), or undefined when absent. */
function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** What one scrape of the worker's metrics says about its main thread (see mainThread). */
export interface MainThread {
  /** Event-loop delay p99 in ms since the previous scrape. */
  delayP99Ms?: number;
  /** Share of the time since the previous scrape that the loop was busy. */
  utilization?: number;
  /** Garbage collection since the worker started: seconds paused, pauses in all, and those over 10 ms. */
  gc: { seconds: number; pauses: number; over10ms: number };
}

/**
 * The worker's main thread: the event-loop delay p99 (how late a timer due every 10 ms ran, its
 * period taken off: gpu-worker/src/metrics/event-loop.ts) and the share of the time it was busy,
 * both over the window since the previous scrape, which each scrape ends and restarts (so a scrape
 * before a phase starts the window and one after it reads the phase alone); and its garbage
 * collection so far (prom-client's gc histogram), for the caller to difference.
 */
export async function mainThread(workerUrl: string): Promise<MainThread> {
  const text = await (await fetch(`${workerUrl}/metrics`)).text();
  const delay = metricValue(text, 'imf_worker_event_loop_delay_p99_seconds');
  const gc = { seconds: 0, pauses: 0, over10ms: 0 };
  for (const line of text.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('imf_worker_nodejs_gc_duration_seconds_sum{')) gc.seconds += value;
    else if (line.startsWith('imf_worker_nodejs_gc_duration_seconds_count{')) {
      gc.pauses += value;
      gc.over10ms += value;
    } else if (line.startsWith('imf_worker_nodejs_gc_duration_seconds_bucket{le="0.01",')) gc.over10ms -= value;
  }
  return { delayP99Ms: delay === undefined ? undefined : delay * 1000, utilization: metricValue(text, 'imf_worker_event_loop_utilization'), gc };
}
