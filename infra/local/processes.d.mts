// Types of processes.mjs for the TypeScript that uses it (tests, benchmarks).

/** A free TCP port on loopback (the kernel picks it; a race with another process is possible but rare). */
export function freePort(): Promise<number>;

/** A child process started by startService. */
export interface Service {
  name: string;
  child: import('node:child_process').ChildProcess;
  exited: boolean;
  exitCode: number | string | null;
  /** The last lines it wrote. */
  tail: string[];
  exit: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs` (10 s by default); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | string | null>;
}
