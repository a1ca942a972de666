// Rendezvous (highest-random-weight) hashing: every edge ranks the workers for an image key the
// same way, so one key goes to one worker while it is healthy, and only that worker's keys move
// when it leaves. That is what lets the worker's single-flight deduplicate across the fleet.

/** FNV-1a over UTF-16 code units, then murmur3's finaliser for avalanche; 32-bit unsigned. */
export function score(worker: string, key: string): number {
  let h = 0x811c9dc5;
  const text = `${worker}\n${key}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Workers in the order to try for this key: highest score first, ties by URL. */
export function rendezvousOrder(workers: readonly string[], key: string): string[] {
  return workers
    .map((w) => ({ w, s: score(w, key) }))
    .sort((a, b) => b.s - a.s || (a.w < b.w ? -1 : 1))
    .map(({ w }) => w);
}
