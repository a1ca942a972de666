// Work in flight by key: a caller for a key that is already being worked on joins that work
// instead of starting it again. An entry lives as long as its work, also when every caller stopped
// waiting for it, so a retry joins the running work.

export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /** The work running for `key`, or `start()`'s; `joined` says whether it was already running. */
  run(key: string, start: () => Promise<T>): { work: Promise<T>; joined: boolean } {
    const running = this.flights.get(key);
    if (running) return { work: running, joined: true };
    const work = start();
    this.flights.set(key, work);
    const settled = () => this.flights.delete(key);
    work.then(settled, settled);
    return { work, joined: false };
  }

  /** How many keys are being worked on. */
  get size(): number {
    return this.flights.size;
  }

  /** Resolves once every work running now has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.flights.values()]);
  }
}
