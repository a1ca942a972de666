// Errors as values for the caller: RFC 9457 problem details (application/problem+json), each with
// the offending parameters and the rule they broke. Nothing internal (stack, upstream body) leaks.
import type { ParamIssue } from '@imf/contract';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

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

const TITLES: Record<ProblemKind, [number, string]> = {
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

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** The parameters at fault, each with the rule it broke. */
  errors?: ParamIssue[];
}

export function problem(kind: ProblemKind, detail: string, extra: { errors?: ParamIssue[]; instance?: string } = {}): Problem {
  const [status, title] = TITLES[kind];
  return { type: `/docs#problem-${kind}`, title, status, detail, ...extra };
}

/** The problem as a Response; headers (Retry-After, WWW-Authenticate, …) are added by the caller. */
export function problemResponse(p: Problem, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set('content-type', PROBLEM_CONTENT_TYPE);
  h.set('cache-control', 'no-store');
  return new Response(JSON.stringify(p), { status: p.status, headers: h });
}

/** A 400 listing every bad parameter, with a detail sentence built from them. */
export function invalidParameters(issues: ParamIssue[], instance?: string): Problem {
  const detail = issues.map((i) => i.detail).join('; ');
  return problem('invalid-parameters', detail, { errors: issues, ...(instance ? { instance } : {}) });
}
