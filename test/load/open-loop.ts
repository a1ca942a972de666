// Load drivers for the stack over HTTP: a closed loop that measures capacity (images/s through the
// edge) and an open loop that offers a fixed arrival rate whatever the answers take. An open loop
// is what overload looks like from outside: clients keep arriving while the server falls behind.

/** One answer as the client saw it; status 0 is a transport error or a client-side timeout. */
export interface Sample {
  status: number;
  ms: number;
  retryAfter: string | null;
  contentType: string | null;
}

export interface Target {
  url: string;
  apiKey: string;
  /** The i-th request's path and query (distinct seeds: every request a cache miss). */
  path(i: number): string;
  /** Client-side limit per request; past it the sample is status 0. */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(target: Target, i: number): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await fetch(new URL(target.path(i), target.url), {
      headers: { authorization: `Bearer ${target.apiKey}` },
      signal: AbortSignal.timeout(target.timeoutMs ?? 30_000),
    });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started, retryAfter: response.headers.get('retry-after'), contentType: response.headers.get('content-type') };
  } catch {
    return { status: 0, ms: performance.now() - started, retryAfter: null, contentType: null };
  }
}

/**
 * Closed loop: `concurrency` clients send back to back for `seconds`; capacity is the rate of 200
 * answers. Requests are numbered from `first` so that later phases do not repeat seeds.
 */
export async function measureCapacity(target: Target, { seconds, concurrency, first = 0 }: { seconds: number; concurrency: number; first?: number }) {
  let next = first;
  let ok = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const sample = await send(target, next++);
      if (sample.status === 200) ok += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  return { imagesPerSecond: ok / elapsed, sent: next - first, next };
}

/**
 * Open loop: request i leaves at start + i / rate, whether or not earlier ones were answered.
 * Resolves once every request sent in `seconds` has its answer (or timed out).
 */
export async function openLoop(target: Target, { rate, seconds, first = 0 }: { rate: number; seconds: number; first?: number }) {
  const pending: Promise<Sample>[] = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  for (let now = started; now < end; now = performance.now()) {
    const due = Math.floor(((now - started) / 1000) * rate);
    while (pending.length < due) pending.push(send(target, first + pending.length));
    await sleep(2);
  }
  const samples = await Promise.all(pending);
  return { samples, sentSeconds: seconds, next: first + pending.length };
}

/** The q-quantile (0..1) of the numbers, nearest rank; NaN when there are none. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
