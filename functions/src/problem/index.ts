// The edge's problems: the kinds of error a client of the public API can get, each with its status
// and title, built with the contract's one problem+json builder. Their type URIs point at /docs.
import { problemBuilder, type ParamIssue, type ProblemCatalogue } from '@imf/contract';

export { problemResponse, PROBLEM_CONTENT_TYPE, type Problem } from '@imf/contract';

export type ProblemKind =
  | 'invalid-parameters'
  | 'unauthorized'
  | 'bad-signature'
  | 'not-found'
  | 'method-not-allowed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'rate-limited'
  | 'pool-unavailable'
  | 'pool-timeout'
  | 'bad-gateway'
  | 'internal';

const KINDS: ProblemCatalogue<ProblemKind> = {
  'invalid-parameters': [400, 'Invalid parameters'],
  unauthorized: [401, 'Missing or invalid API key'],
  'bad-signature': [403, 'Invalid signed URL'],
  'not-found': [404, 'Not found'],
  'method-not-allowed': [405, 'Method not allowed'],
  'payload-too-large': [413, 'Request body too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'rate-limited': [429, 'Too many requests'],
  'pool-unavailable': [503, 'Image generation unavailable'],
  'pool-timeout': [504, 'Image generation timed out'],
  'bad-gateway': [502, 'Image generation failed'],
  internal: [500, 'Internal error'],
};

export const problem = problemBuilder(KINDS, (kind) => `/docs#problem-${kind}`);

/** A 400 listing every bad parameter, with a detail sentence built from them. */
export function invalidParameters(issues: ParamIssue[], instance?: string) {
  const detail = issues.map((i) => i.detail).join('; ');
  return problem('invalid-parameters', detail, { errors: issues, ...(instance ? { instance } : {}) });
}
