// Paths are logged with their signatures removed.
import { describe, expect, it } from 'vitest';
import { redactPath } from './index.js';

describe('log redaction', () => {
  it('replaces signature values and keeps the rest', () => {
    expect(redactPath('/v1/images/m/1.png?seed=1&exp=9&kid=k1&sig=abcDEF_-')).toBe('/v1/images/m/1.png?seed=1&exp=9&kid=k1&sig=REDACTED');
    expect(redactPath('/x?token=t&y=1')).toBe('/x?token=REDACTED&y=1');
  });
});
