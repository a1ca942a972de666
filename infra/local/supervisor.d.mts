// Types of supervisor.mjs for the TypeScript that uses it (tests).
import type { Service } from './processes.mjs';

export interface Instance {
  service: Service;
}

export interface SupervisorOptions<T extends Instance> {
  name: string;
  first: T;
  start(onSpawn: (service: Service) => void): Promise<T>;
  onRestarted?(instance: T): void;
  log?(line: string): void;
  /** Restarts allowed within windowMs before the service is given up (5 in 60 s by default). */
  restarts?: number;
  windowMs?: number;
  /** Backoff before a restart: baseMs, doubling with each restart in the window, at most maxMs. */
  baseMs?: number;
  maxMs?: number;
}

export interface Supervisor<T extends Instance> {
  name: string;
  readonly current: T;
  /** Resolves when the service is given up after a crash loop. */
  gaveUp: Promise<{ name: string; reason: string }>;
  restart(): Promise<T>;
  stop(): Promise<void>;
}

export function supervise<T extends Instance>(options: SupervisorOptions<T>): Supervisor<T>;
