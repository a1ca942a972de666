// Who the client is, by address, for the limits that have no API key to go by (the playground).
// The address comes from the runtime, never from a header the client may write: on Workers the
// connecting address Cloudflare puts in CF-Connecting-IP (it replaces any value the client sent),
// on Node the socket's peer. X-Forwarded-For counts only when that peer is a configured trusted
// proxy, and then the client is the right-most address in it that is not itself a trusted proxy.
import type { Context } from 'hono';

/** What the runtime says the connecting address is; undefined when it cannot tell (tests in-process). */
export type RuntimeAddress = (c: Context) => string | undefined;

/** The address used when the runtime has none: every such request shares one budget. */
export const UNKNOWN_CLIENT = 'unknown';

function normalise(address: string): string {
  const trimmed = address.trim().toLowerCase().slice(0, 64);
  // IPv4-mapped IPv6 (::ffff:1.2.3.4), as Node reports IPv4 peers on a dual-stack socket.
  return trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice(7) : trimmed;
}

function ipv4(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** Whether `address` is one of `proxies`: exact addresses, or IPv4 CIDR blocks (`10.0.0.0/8`). */
export function isTrustedProxy(address: string, proxies: readonly string[]): boolean {
  const a = normalise(address);
  for (const entry of proxies) {
    const slash = entry.indexOf('/');
    if (slash < 0) {
      if (normalise(entry) === a) return true;
      continue;
    }
    const base = ipv4(normalise(entry.slice(0, slash)));
    const bits = Number(entry.slice(slash + 1));
    const value = ipv4(a);
    if (base === undefined || value === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) continue;
    const size = 2 ** (32 - bits);
    if (Math.floor(value / size) === Math.floor(base / size)) return true;
  }
  return false;
}

/** The client's address: the runtime's, or behind trusted proxies the nearest untrusted hop they forwarded. */
export function clientAddress(c: Context, runtimeAddress: RuntimeAddress, trustedProxies: readonly string[]): string {
  const peer = runtimeAddress(c);
  if (peer === undefined || peer === '') return UNKNOWN_CLIENT;
  if (trustedProxies.length === 0 || !isTrustedProxy(peer, trustedProxies)) return normalise(peer);
  const hops = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!isTrustedProxy(hops[i]!, trustedProxies)) return normalise(hops[i]!);
  }
  return normalise(hops[0] ?? peer);
}

/** The 8 hextets of an IPv6 address (`::` expanded, a zone dropped), or undefined when it is not one. */
function ipv6Hextets(address: string): number[] | undefined {
  const text = address.split('%')[0]!;
  if (!text.includes(':') || !/^[0-9a-f:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4 and the like) takes two hextets.
  const last = tail.length > 0 ? tail : head;
  if (last.length > 0 && last[last.length - 1]!.includes('.')) {
    const v4 = ipv4(last.pop()!);
    if (v4 === undefined) return undefined;
    last.push((v4 >>> 16).toString(16), (v4 & 0xffff).toString(16));
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * The unit a per-client budget counts: an IPv4 address as it is, an IPv6 address by its /64 (one
 * subscriber's network: a host there picks any of 2^64 addresses, so counting each would give it as
 * many budgets), anything else as it is.
 */
export function clientGroup(address: string): string {
  const hextets = ipv6Hextets(address);
  if (!hextets) return address;
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(':')}::/64`;
}
