// The worker's problems (RFC 9457, through the contract's one builder): each WorkerError kind and
// the API's own refusals, with the status the edge acts on. Their type URIs are urn:imf:worker:<kind>.
import { problemBuilder, problemResponse, WORKER_PROBLEM_TYPE_PREFIX, type ParamIssue, type ProblemCatalogue } from '@imf/contract';
import type { WorkerError, WorkerErrorKind } from '../errors.js';

type WorkerProblemKind = WorkerErrorKind | 'unauthorized' | 'payload-too-large' | 'not-found';

const KINDS: ProblemCatalogue<WorkerProblemKind> = {
  'bad-request': [400, 'Invalid generation request'],
  'wrong-model': [409, 'Model or version not served here'],
  'queue-full': [503, 'Worker saturated'],
  overloaded: [503, 'Worker behind'],
  deadline: [503, 'Deadline exceeded while queued'],
  'not-ready': [503, 'Worker not ready'],
  storage: [503, 'Object storage unavailable'],
  inference: [500, 'Inference failed'],
  internal: [500, 'Internal error'],
  unauthorized: [401, 'Missing or wrong worker secret'],
  'payload-too-large': [413, 'Request body too large'],
  'not-found': [404, 'No such route'],
};

const problem = problemBuilder(KINDS, (kind) => `${WORKER_PROBLEM_TYPE_PREFIX}${kind}`);

/** A problem response; `headers` adds what the route needs (Connection: close, …). */
export function workerProblem(kind: WorkerProblemKind, detail: string, headers: Record<string, string> = {}, errors?: ParamIssue[]): Response {
  return problemResponse(problem(kind, detail, errors ? { errors } : {}), headers);
}

/** A WorkerError as its problem: a 503 carries Retry-After, so the edge knows when to come back. */
export function errorResponse(error: WorkerError, headers: Record<string, string> = {}): Response {
  const retry = KINDS[error.kind][0] === 503 ? { 'retry-after': String(error.retryAfterSeconds) } : {};
  return workerProblem(error.kind, error.message, Object.assign({}, headers, retry));
}
