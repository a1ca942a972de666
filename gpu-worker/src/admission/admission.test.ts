// Admission by age: the door closes while the oldest request in progress is older than the bound,
// and opens again as soon as the backlog has drained.
import { describe, expect, it } from 'vitest';
import { Admission } from './index.js';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function admitMany(admission: Admission, count: number): number[] {
  return Array.from({ length: count }, () => {
    const admitted = admission.enter();
    if (!admitted.ok) throw new Error('refused');
    return admitted.ticket;
  });
}

describe('Admission', () => {
  it('admits while the oldest request in progress is younger than the bound', () => {
    const c = clock();
    const admission = new Admission(1000, 4, c.now);
    admitMany(admission, 10);
    c.advance(1000);
    expect(admission.enter().ok).toBe(true);
    expect(admission.oldestMs()).toBe(1000);
  });

  it('refuses with a Retry-After of about the oldest wait once the bound is passed', () => {
    const c = clock();
    const admission = new Admission(1000, 4, c.now);
    admitMany(admission, 4);
    c.advance(2500);
    expect(admission.enter()).toEqual({ ok: false, oldestMs: 2500, retryAfterSeconds: 3 });
  });

  it('opens again once the old requests have left', () => {
    const c = clock();
    const admission = new Admission(1000, 4, c.now);
    const old = admitMany(admission, 4);
    c.advance(500);
    const young = admitMany(admission, 4);
    c.advance(700);
    expect(admission.enter().ok).toBe(false);
    for (const ticket of old) admission.leave(ticket);
    expect(admission.oldestMs()).toBe(700);
    expect(admission.enter().ok).toBe(true);
    for (const ticket of young) admission.leave(ticket);
  });

  it('lets a few stragglers be slow without closing the door', () => {
    const c = clock();
    const admission = new Admission(1000, 4, c.now);
    admitMany(admission, 3);
    c.advance(60_000);
    expect(admission.enter().ok).toBe(true);
    expect(admission.enter().ok).toBe(false);
  });

  it("gives a slow model's request its allowance before it closes the door", () => {
    const c = clock();
    const admission = new Admission(1000, 4, c.now);
    const tickets = admitMany(admission, 4);
    for (const ticket of tickets) admission.allow(ticket, 8000);
    c.advance(5000);
    expect(admission.enter().ok).toBe(true);
    c.advance(4001);
    expect(admission.enter().ok).toBe(false);
  });
});
