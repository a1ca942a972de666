// The client's address: the runtime's word, and X-Forwarded-For only behind a trusted proxy.
import { Hono, type Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientAddress, clientGroup, isTrustedProxy, UNKNOWN_CLIENT } from './client.js';

async function addressOf(peer: string | undefined, headers: Record<string, string>, trusted: string[]): Promise<string> {
  let out = '';
  const app = new Hono().get('/', (c: Context) => ((out = clientAddress(c, () => peer, trusted)), c.body(null)));
  await app.request('/', { headers });
  return out;
}

describe('client address', () => {
  it("is the runtime's peer, whatever X-Forwarded-For or CF-Connecting-IP the client wrote", async () => {
    expect(await addressOf('192.0.2.7', { 'x-forwarded-for': '203.0.113.1', 'cf-connecting-ip': '198.51.100.1' }, [])).toBe('192.0.2.7');
    expect(await addressOf('::ffff:192.0.2.7', {}, [])).toBe('192.0.2.7');
    expect(await addressOf(undefined, { 'x-forwarded-for': '203.0.113.1' }, [])).toBe(UNKNOWN_CLIENT);
  });

  it('behind a trusted proxy, is the right-most forwarded hop that is not a trusted proxy', async () => {
    const trusted = ['10.0.0.0/8', '192.0.2.7'];
    expect(await addressOf('192.0.2.7', { 'x-forwarded-for': '1.1.1.1, 203.0.113.5, 10.1.2.3' }, trusted)).toBe('203.0.113.5');
    expect(await addressOf('192.0.2.7', {}, trusted)).toBe('192.0.2.7');
    expect(await addressOf('192.0.2.8', { 'x-forwarded-for': '203.0.113.5' }, trusted)).toBe('192.0.2.8');
  });

  it('matches exact addresses and IPv4 CIDR blocks', () => {
    expect(isTrustedProxy('10.255.0.1', ['10.0.0.0/8'])).toBe(true);
    expect(isTrustedProxy('11.0.0.1', ['10.0.0.0/8'])).toBe(false);
    expect(isTrustedProxy('192.168.1.1', ['192.168.1.0/31'])).toBe(true);
    expect(isTrustedProxy('192.168.1.2', ['192.168.1.0/31'])).toBe(false);
    expect(isTrustedProxy('::1', ['::1'])).toBe(true);
    expect(isTrustedProxy('::ffff:127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(isTrustedProxy('not-an-ip', ['10.0.0.0/8'])).toBe(false);
  });

  it('groups IPv6 addresses by their /64 for budgets, and keeps IPv4 and unknown ones as they are', () => {
    expect(clientGroup('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientGroup('2001:db8:1:2:ffff:eeee:dddd:cccc')).toBe('2001:db8:1:2::/64');
    expect(clientGroup('2001:0db8:0001:0002:0:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(clientGroup('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientGroup('::1')).toBe('0:0:0:0::/64');
    expect(clientGroup('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientGroup('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(clientGroup('192.0.2.7')).toBe('192.0.2.7');
    expect(clientGroup(UNKNOWN_CLIENT)).toBe(UNKNOWN_CLIENT);
    expect(clientGroup('1:2:3')).toBe('1:2:3');
  });
});
