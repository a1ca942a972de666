// The edge's problems: the kinds of error a client of the public API can get, each with its status
// and title, built with the contract's one problem+json builder. Their type URIs point at /docs.
import { problemBuilder, type ParamIssue, type ProblemCatalogue } from '@imf/contract';

export { problemResponse, PROBLEM_CONTENT_TYPE, type Problem } from '@imf/contract';

export type ProblemKind =
  | 'invalid-parameters'
  | 'unauthorized'
  | 'bad-signature'
  | 'forbidden-origin'
  | 'generation-refused'
  | 'not-found'
  | 'method-not-allowed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'rate-limited'
  | 'pool-unavailable'
  | 'storage-unavailable'
  | 'pool-timeout'
  | 'bad-gateway'
  | 'internal';

const KINDS: ProblemCatalogue<ProblemKind> = {
  'invalid-parameters': [400, 'Invalid parameters'],
  unauthorized: [401, 'Missing or invalid API key'],
  'bad-signature': [403, 'Invalid signed URL'],
  'forbidden-origin': [403, 'Request from another site refused'],
  'generation-refused': [403, 'Generation not allowed for this URL'],
  'not-found': [404, 'Not found'],
  'method-not-allowed': [405, 'Method not allowed'],
  'payload-too-large': [413, 'Request body too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'rate-limited': [429, 'Too many requests'],
  'pool-unavailable': [503, 'Image generation unavailable'],
  'storage-unavailable': [503, 'Object storage unavailable'],
  'pool-timeout': [504, 'Image generation timed out'],
  'bad-gateway': [502, 'Image generation failed'],
  internal: [500, 'Internal error'],
};

export const problem = problemBuilder(KINDS, (kind) => `/docs#problem-${kind}`);

/** The most issues a problem lists, and the longest parameter name and sentence it repeats. */
export const MAX_ISSUES = 20;
const MAX_NAME = 64;
const MAX_DETAIL = 200;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * At most MAX_ISSUES issues, each name and sentence cut short: a problem's size is bounded whatever
 * the request was (8 KB of repeated or invented parameters must not become a 200 KB answer).
 */
export function boundedIssues(issues: readonly ParamIssue[]): ParamIssue[] {
  return issues.slice(0, MAX_ISSUES).map((i) => ({ parameter: cut(i.parameter, MAX_NAME), rule: i.rule, detail: cut(i.detail, MAX_DETAIL) }));
}

/** A 400 listing the bad parameters (the first MAX_ISSUES), with a detail sentence built from them. */
export function invalidParameters(issues: ParamIssue[], instance?: string) {
  const kept = boundedIssues(issues);
  const more = issues.length - kept.length;
  const detail = kept.map((i) => i.detail).join('; ') + (more > 0 ? `; and ${more} more` : '');
  return problem('invalid-parameters', detail, { errors: kept, ...(instance ? { instance: cut(instance, 256) } : {}) });
}
