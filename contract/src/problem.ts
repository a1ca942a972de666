// Errors as values for the caller: RFC 9457 problem details (application/problem+json), with the
// offending parameters and the rule each broke. The edge and the worker build theirs here, each from
// its own catalogue of kinds; nothing internal (a stack, an upstream body) goes into one.
import type { ParamIssue } from './issues.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** The parameters at fault, each with the rule it broke. */
  errors?: ParamIssue[];
}

/** What each kind of problem a service answers is: its status and its title. */
export type ProblemCatalogue<K extends string> = Readonly<Record<K, readonly [status: number, title: string]>>;

export type ProblemExtra = { errors?: ParamIssue[]; instance?: string };

/** The problem builder of one service: `typeOf` gives each kind's type URI. */
export function problemBuilder<K extends string>(catalogue: ProblemCatalogue<K>, typeOf: (kind: K) => string): (kind: K, detail: string, extra?: ProblemExtra) => Problem {
  return (kind, detail, extra = {}) => {
    const [status, title] = catalogue[kind];
    const problem: Problem = { type: typeOf(kind), title, status, detail };
    if (extra.instance !== undefined) problem.instance = extra.instance;
    if (extra.errors !== undefined) problem.errors = extra.errors;
    return problem;
  };
}

/** The problem as a response that is never cached; `headers` adds Retry-After, WWW-Authenticate, Allow, … */
export function problemResponse(problem: Problem, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: Object.assign({}, headers, { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' }),
  });
}
