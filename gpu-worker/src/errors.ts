// Errors are values with a kind the API maps to a status, and a message meant for the caller.
import { StorageError } from '@imf/contract';

export type WorkerErrorKind =
  /** The request is malformed or asks for something the model cannot do (400). */
  | 'bad-request'
  /** The worker does not serve this model or model version (409: the edge tries another worker). */
  | 'wrong-model'
  /** The queue is full (503 + Retry-After). */
  | 'queue-full'
  /** The worker is behind: its oldest request in progress is past SHED_AFTER_MS (503 + Retry-After). */
  | 'overloaded'
  /** The request waited past its deadline (503 + Retry-After). */
  | 'deadline'
  /** Starting up, or draining for shutdown (503 + Retry-After). */
  | 'not-ready'
  /** Object storage failed (503 + Retry-After); nothing partial was left behind. */
  | 'storage'
  /** ONNX Runtime failed (500). */
  | 'inference'
  /** Anything else that failed unexpectedly: a bug, not a refusal (500). */
  | 'internal';

export class WorkerError extends Error {
  constructor(
    readonly kind: WorkerErrorKind,
    message: string,
    /** For the 503 kinds: when the caller may try again. */
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}

/**
 * The error as a WorkerError: itself; 'storage' for a failed storage call (a key the store cannot
 * hold is the request's fault: 'bad-request'); 'internal' for anything that was not refused on purpose.
 */
export function asWorkerError(error: unknown): WorkerError {
  if (error instanceof WorkerError) return error;
  if (error instanceof StorageError) return new WorkerError(error.reason === 'invalid-key' ? 'bad-request' : 'storage', error.message, 2);
  return new WorkerError('internal', 'image generation failed unexpectedly');
}
