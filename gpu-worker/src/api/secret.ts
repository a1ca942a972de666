// The shared secret the edge sends in x-imf-worker-secret, compared in equal time.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Both sides are hashed first, so that their lengths leak nothing either. */
export function secretMatches(presented: string | undefined, secret: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}
