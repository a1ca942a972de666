// What the API needs from the running worker, and what each request carries through the middleware.
import type { ImageGenerator } from '../generate/index.js';
import type { Logger } from '../logging/index.js';
import type { RefusedModel } from '../models/discover.js';

export type Phase = 'starting' | 'ready' | 'draining';

export interface WorkerState {
  phase(): Phase;
  generator(): ImageGenerator | undefined;
  refused(): RefusedModel[];
}

/** Per request: its id, its logger, and what the request log line should add (keys and sources of images). */
export type WorkerEnv = { Variables: { requestId: string; log: Logger; logDetail?: Record<string, unknown>; admissionTicket?: number } };
