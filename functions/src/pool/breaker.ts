// A circuit breaker per worker: after `threshold` consecutive failures the worker is skipped for
// `cooldownMs`; then one trial request (half-open) decides whether it closes or opens again.

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  state: BreakerState = 'closed';

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
  ) {}

  /** Whether a request may go to this worker now; moving open → half-open claims the one trial. */
  tryAcquire(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && now - this.openedAt >= this.cooldownMs) {
      this.state = 'half-open';
      this.trialInFlight = false;
    }
    if (this.state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  /** Milliseconds until an open breaker lets a trial through (0 when it would now). */
  retryInMs(now: number): number {
    return this.state === 'open' ? Math.max(0, this.openedAt + this.cooldownMs - now) : 0;
  }

  success(): void {
    this.state = 'closed';
    this.failures = 0;
    this.trialInFlight = false;
  }

  failure(now: number): void {
    this.failures += 1;
    this.trialInFlight = false;
    if (this.state === 'half-open' || this.failures >= this.threshold) this.trip(now);
  }

  /** Neither success nor failure (the worker was busy): frees a half-open trial. */
  release(): void {
    this.trialInFlight = false;
  }

  /** Opens at once (a failed /readyz probe). */
  trip(now: number): void {
    this.state = 'open';
    this.openedAt = now;
  }
}
