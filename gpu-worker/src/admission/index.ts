// Admission to the worker's generation pipeline (storage look-up, batch, encode, storage write):
// a bound in time, not in count. While the oldest request in progress has been in it longer than
// `shedAfterMs`, the worker is behind, and new work is refused at the door (503 + Retry-After),
// before its body is read. The batcher's count bound (MAX_QUEUE) cannot see requests that wait in
// storage calls, sockets or the accept queue of a CPU-starved process; without this bound, overload
// piles up there and ends as timeouts at the edge (504) instead of clear, fast refusals.
// A request for a slow model (a VAE decode on a CPU takes seconds) is given its model's allowance
// on top of the bound once its model is known (allow), so it does not close the door by itself.

export type Admitted = { ok: true; ticket: number } | { ok: false; oldestMs: number; retryAfterSeconds: number };

export class Admission {
  /** Start time of each request in progress, by ticket; insertion order is age order. */
  private readonly started = new Map<number, number>();
  /** Extra milliseconds a request in progress may take (its model's allowance), by ticket. */
  private readonly allowances = new Map<number, number>();
  private nextTicket = 0;

  constructor(
    private readonly shedAfterMs: number,
    /** A few stragglers (a slow storage call) must not close the door: shed only with this many in progress. */
    private readonly minInProgress = 4,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** How long the oldest request in progress has been in it; 0 when none is. */
  oldestMs(): number {
    const first = this.started.values().next();
    return first.done ? 0 : this.now() - first.value;
  }

  /** The age of the oldest request in progress past the bound plus its allowance, or undefined when none is. */
  private overdueMs(): number | undefined {
    const now = this.now();
    for (const [ticket, started] of this.started) {
      const age = now - started;
      // Later entries are younger: none of them can be past the bound either.
      if (age <= this.shedAfterMs) return undefined;
      if (age > this.shedAfterMs + (this.allowances.get(ticket) ?? 0)) return age;
    }
    return undefined;
  }

  /** A ticket for a request that may enter (hand it to leave), or a refusal with its Retry-After. */
  enter(): Admitted {
    const oldestMs = this.started.size >= this.minInProgress ? this.overdueMs() : undefined;
    if (oldestMs !== undefined) {
      // The backlog drains in about the time its oldest member has waited.
      return { ok: false, oldestMs, retryAfterSeconds: Math.max(1, Math.ceil(oldestMs / 1000)) };
    }
    const ticket = this.nextTicket++;
    this.started.set(ticket, this.now());
    return { ok: true, ticket };
  }

  /** Gives a request in progress `extraMs` beyond the bound: its model's expected time allows it. */
  allow(ticket: number, extraMs: number): void {
    if (this.started.has(ticket) && extraMs > 0) this.allowances.set(ticket, extraMs);
  }

  leave(ticket: number): void {
    this.started.delete(ticket);
    this.allowances.delete(ticket);
  }
}
