// What a rejected request is told: each bad parameter by name, the rule it broke, and a sentence
// for the caller. Problem details (problem.ts) carry these as their `errors`.
import type { z } from 'zod';

/** One rejected parameter: its name, the rule it broke, and a sentence for the caller. */
export interface ParamIssue {
  parameter: string;
  rule: 'required' | 'type' | 'range' | 'enum' | 'unknown' | 'order' | 'format';
  detail: string;
}

export type ParseResult<T> =
  | { ok: true; value: T }
  /** notFound: the model does not exist (404) rather than a bad parameter (400). */
  | { ok: false; notFound: boolean; issues: ParamIssue[] };

export type ParseFailure = Extract<ParseResult<unknown>, { ok: false }>;

/** Turns zod issues into ParamIssues naming the parameter and the rule (parse with reportInput). */
export function issuesFromZod(error: z.ZodError, prefix = ''): ParamIssue[] {
  const out: ParamIssue[] = [];
  for (const issue of error.issues) {
    const at = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ parameter: [at, key].filter(Boolean).join('.'), rule: 'unknown', detail: `unknown parameter "${key}"` });
      }
    } else if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) {
      out.push({ parameter: at || '(body)', rule: 'required', detail: `${at || 'body'} is required` });
    } else if (issue.code === 'invalid_value') {
      out.push({ parameter: at, rule: 'enum', detail: issue.message });
    } else if (issue.code === 'too_big' || issue.code === 'too_small') {
      out.push({ parameter: at, rule: 'range', detail: issue.message });
    } else {
      out.push({ parameter: at || '(body)', rule: 'type', detail: issue.message });
    }
  }
  return out;
}
