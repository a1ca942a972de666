// Problem details: one builder for every service, each with its own kinds and type URIs.
import { describe, expect, it } from 'vitest';
import { problemBuilder, problemResponse, PROBLEM_CONTENT_TYPE } from './index.js';

const problem = problemBuilder({ teapot: [418, 'I am a teapot'], gone: [410, 'Gone'] } as const, (kind) => `urn:test:${kind}`);

describe('problem details', () => {
  it('takes status and title from the catalogue and the type from the service', () => {
    expect(problem('teapot', 'short and stout')).toEqual({ type: 'urn:test:teapot', title: 'I am a teapot', status: 418, detail: 'short and stout' });
  });

  it('carries the parameters at fault and the instance when given', () => {
    const errors = [{ parameter: 'seed', rule: 'range' as const, detail: 'too big' }];
    expect(problem('gone', 'no more', { errors, instance: '/x' })).toMatchObject({ errors, instance: '/x' });
  });

  it('answers as application/problem+json, never cached, with the caller\'s headers', async () => {
    const response = problemResponse(problem('gone', 'no more'), { 'retry-after': '5', 'cache-control': 'public' });
    expect(response.status).toBe(410);
    expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ status: 410, detail: 'no more' });
  });
});
