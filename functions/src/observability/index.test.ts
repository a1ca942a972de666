// Paths are logged with their signatures and every secret-shaped parameter removed.
import { describe, expect, it } from 'vitest';
import { redactPath } from './index.js';

describe('log redaction', () => {
  it('replaces signature values and keeps the rest', () => {
    expect(redactPath('/v1/images/m/1.png?seed=1&by=k.0123&exp=9&kid=k1&sig=abcDEF_-')).toBe('/v1/images/m/1.png?seed=1&by=k.0123&exp=9&kid=k1&sig=REDACTED');
    expect(redactPath('/x?token=t&y=1')).toBe('/x?token=REDACTED&y=1');
  });

  it.each(['access_token', 'api_key', 'api-key', 'apikey', 'key', 'Authorization', 'X-Amz-Signature', 'X-Amz-Credential', 'password', 'client_secret', 'id_token', 'session', 'jwt', '%74oken', 'refresh%5Ftoken'])(
    'redacts %s=…',
    (name) => {
      const line = redactPath(`/v1/images/m/1.png?seed=1&${name}=imf_live_secret_value_0123&size=28`);
      expect(line).not.toContain('imf_live_secret_value_0123');
      expect(line).toBe(`/v1/images/m/1.png?seed=1&${name}=REDACTED&size=28`);
    },
  );

  it('leaves paths without a query and harmless parameters alone', () => {
    expect(redactPath('/v1/models')).toBe('/v1/models');
    expect(redactPath('/v1/images/m/1.png?guidance=3&tmin=0&tmax=1&seed=5&size=28')).toBe('/v1/images/m/1.png?guidance=3&tmin=0&tmax=1&seed=5&size=28');
  });
});
