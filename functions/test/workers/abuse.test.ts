// The abuse suite inside workerd (Cache API, R2 binding, Durable Object limiter), plus what only
// Workers has: the client's address is CF-Connecting-IP, which Cloudflare sets for every request.
import { describe, expect, it } from 'vitest';
import { abuseSuite } from '../abuse.js';
import { model } from '../support/requests.js';
import { SIGNING_KEYS } from '../support/env.js';
import { env, workersEdge } from './start-edge.js';

const startEdge = workersEdge();

abuseSuite('workerd', env, startEdge);

describe('abuse resistance, Workers only', () => {
  it('takes the client from CF-Connecting-IP: each address has its own signing budget', async () => {
    const edge = await startEdge({ SIGNING_KEYS, PLAYGROUND_RATE_LIMIT_BURST: '1', PLAYGROUND_RATE_LIMIT_PER_MINUTE: '0.001' });
    const html = await (await edge.fetch('/')).text();
    const token = /name="playground-token" content="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const [a, b] = crypto.getRandomValues(new Uint8Array(2));
    const sign = (ip: string) =>
      edge
        .fetch('/playground/sign', { method: 'POST', headers: { 'content-type': 'application/json', 'x-playground-token': token, 'cf-connecting-ip': ip }, body: JSON.stringify({ model: model.id, class: 1, seed: 1 }) })
        .then((r) => r.status);
    const first = `10.200.${a}.${b}`;
    const second = `10.201.${a}.${b}`;
    expect([await sign(first), await sign(first), await sign(second)]).toEqual([200, 429, 200]);
  });

  it('counts IPv6 clients by their /64: another address in the same network shares the budget, another network has its own', async () => {
    const edge = await startEdge({ SIGNING_KEYS, PLAYGROUND_RATE_LIMIT_BURST: '1', PLAYGROUND_RATE_LIMIT_PER_MINUTE: '0.001' });
    const html = await (await edge.fetch('/')).text();
    const token = /name="playground-token" content="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const sign = (ip: string) =>
      edge
        .fetch('/playground/sign', { method: 'POST', headers: { 'content-type': 'application/json', 'x-playground-token': token, 'cf-connecting-ip': ip }, body: JSON.stringify({ model: model.id, class: 1, seed: 1 }) })
        .then((r) => r.status);
    const [a, b] = Array.from(crypto.getRandomValues(new Uint16Array(2)), (n) => n.toString(16));
    const network = `2001:db8:${a}:${b}`;
    expect([await sign(`${network}::1`), await sign(`${network}:ffff:1:2:3`), await sign(`${network.toUpperCase()}:0:0:0:9`), await sign(`2001:db8:${a}:${b}1::1`)]).toEqual([200, 429, 429, 200]);
  });
});
