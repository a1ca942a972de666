// An outside probe of a running edge: makes the attacks the security tests cover over plain HTTP and TCP, as anyone
// on the network could, and prints one line per attack with what came back. Exits 1 when an attack
// got through. `npm run probe:security -- <edge url> [--key <api key>] [--storage-host <host>
// [--master-port 9334 --volume-port 9335 --filer-port 9336 --master-grpc-port … --filer-grpc-port …]]
// [--data-dir .data]` (the key unlocks the checks on API answers; the storage host, SeaweedFS's own
// HTTP and gRPC ports there; the data folder, the modes of the secret files in it).
//
// It generates images: up to the playground's generation budget (40 by default) of fresh seeds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, 2)[1];
};
const apiKey = option('--key') ?? process.env.PROBE_API_KEY;
const storageHost = option('--storage-host');
const portOption = (name, fallback) => Number(option(name) ?? fallback);
const ports = { master: portOption('--master-port', 9334), volume: portOption('--volume-port', 9335), filer: portOption('--filer-port', 9336) };
const grpc = { master: portOption('--master-grpc-port', ports.master + 10000), filer: portOption('--filer-grpc-port', ports.filer + 10000) };
const dataDir = option('--data-dir') ?? '.data';
const base = (args[0] ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
const results = [];
const record = (attack, held, got) => results.push({ attack, held, got });

/** Raw bytes to the edge; resolves with the whole answer as latin1 text. */
function raw(bytes) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port || 80), hostname, () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
    socket.setTimeout(10_000, () => socket.destroy());
  });
}
const statusLine = (answer) => answer.split('\r\n')[0] ?? '';
const contentType = (answer) => /\r\ncontent-type: ([^\r]+)/i.exec(answer)?.[1] ?? '(none)';

async function pageToken() {
  const html = await (await fetch(`${base}/`)).text();
  const match = /name="playground-token" content="([^"]+)"/.exec(html);
  return match ? match[1].replace(/&amp;/g, '&') : undefined;
}

async function models() {
  const body = await (await fetch(`${base}/v1/models`)).json();
  return body.models[0];
}

const randomSeed = () => Math.floor(Math.random() * 2 ** 32);
const spoofed = (i) => ({ 'x-forwarded-for': `203.0.113.${i % 250}`, 'cf-connecting-ip': `198.51.100.${i % 250}` });
const sign = (token, model, headers = {}) =>
  fetch(`${base}/playground/sign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-playground-token': token, ...headers },
    body: JSON.stringify({ model: model.id, class: 1, seed: randomSeed() }),
  });

const model = await models();
const token = await pageToken();

// 1. The playground's signer from another site.
if (token) {
  const evil = await sign(token, model, { origin: 'https://evil.example' });
  record('playground signer, Origin: https://evil.example', evil.status === 403, `${evil.status}`);
} else {
  record('playground page token', true, 'no playground page (PLAYGROUND=off?)');
}

// 2. Fresh generations through playground URLs, from one client claiming a new address each time
//    and taking a new page token each time: the budget must end them.
if (token) {
  const statuses = {};
  let generated = 0;
  for (let i = 0; i < 120; i++) {
    const minted = await sign((await pageToken()) ?? token, model, spoofed(i));
    let status = minted.status;
    if (minted.ok) {
      const { url } = await minted.json();
      const image = await fetch(new URL(url, base), { headers: spoofed(i) });
      await image.arrayBuffer();
      status = image.status;
      if (image.headers.get('x-image-tier') === 'generated') generated++;
    }
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 429 && (statuses[429] ?? 0) >= 3) break;
  }
  record('fresh playground generations, rotating X-Forwarded-For / CF-Connecting-IP / page tokens', (statuses[429] ?? 0) > 0, `${generated} generated, statuses ${JSON.stringify(statuses)}`);
}

// 3. A forged Host header must not become the origin of a redirect.
{
  const auth = apiKey ? `authorization: Bearer ${apiKey}\r\n` : '';
  const answer = await raw(`GET /v1/images/${model.id}/3.png?seed=5 HTTP/1.1\r\nhost: evil.example\r\n${auth}connection: close\r\n\r\n`);
  const location = /\r\nlocation: ([^\r]+)/i.exec(answer)?.[1] ?? '(none)';
  record('Host: evil.example', !answer.includes('evil.example'), `${statusLine(answer)}; location ${location}`);
}

// 4. Small leaks.
if (apiKey) {
  const auth = { authorization: `Bearer ${apiKey}` };
  const parts = [];
  for (let i = 0; parts.join('&').length < 8000; i++) parts.push(i % 2 ? 'seed=1' : `p${i}=1`);
  const big = await fetch(`${base}/v1/images/${model.id}/3.png?${parts.join('&')}`, { headers: auth });
  const size = (await big.text()).length;
  record('8 KB query of repeated and invented parameters', size < 8 * 1024, `${big.status}, ${size} bytes`);
  const proto = await (await fetch(`${base}/v1/images/${model.id}/3.png?seed=1&toString=1&__proto__=x`, { headers: auth })).json();
  const repeats = (proto.errors ?? []).filter((e) => /more than once/.test(e.detail)).length;
  record('&toString=1&__proto__=x', repeats === 0, (proto.errors ?? []).map((e) => `${e.parameter}:${e.rule}`).join(', '));
}
if (token) {
  const minted = await sign((await pageToken()) ?? token, model);
  if (minted.ok) {
    const { url } = await minted.json();
    const exp = /exp=(\d+)/.exec(url)[1];
    const padded = await fetch(new URL(url.replace(`exp=${exp}`, `exp=0${exp}`), base));
    record('signed URL with exp=0…', padded.status === 403, `${padded.status}`);
  }
}
{
  const answer = await raw(`GET /v1/models HTTP/1.1\r\nhost: probe\r\nx-big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
  record('100 KB header', /problem\+json/.test(contentType(answer)), `${statusLine(answer)}; ${contentType(answer)}`);
  const utf8 = await raw(Buffer.concat([Buffer.from('GET /v1/images/'), Buffer.from('ü€.png', 'utf8'), Buffer.from(' HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n')]));
  record('raw UTF-8 request target', /problem\+json/.test(contentType(utf8)), `${statusLine(utf8)}; ${contentType(utf8)}`);
}

// 4b. Requests Node's HTTP layer refuses before the app: problem+json with the security headers.
for (const [name, request] of [
  ['backslash in the request target', 'GET /v1\\models HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n'],
  ['GET *', 'GET * HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n'],
  ['no Host header', 'GET /v1/models HTTP/1.1\r\nconnection: close\r\n\r\n'],
]) {
  const answer = await raw(request);
  const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase();
  const held = /problem\+json/.test(contentType(answer)) && head.includes('x-content-type-options: nosniff') && /^HTTP\/1\.1 4/.test(answer);
  record(name, held, `${statusLine(answer)}; ${contentType(answer)}`);
}

// 4c. Classes that are not classes: refused, not coerced to another class.
if (apiKey) {
  const auth = { authorization: `Bearer ${apiKey}` };
  const negative = await fetch(`${base}/v1/images/${model.id}/-7.png`, { headers: auth, redirect: 'manual' });
  await negative.arrayBuffer();
  record(`/v1/images/${model.id}/-7.png`, negative.status === 400, `${negative.status}`);
  for (const cls of [-1, '3!']) {
    const body = await fetch(`${base}/v1/sign`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: model.id, class: cls }) });
    await body.arrayBuffer();
    record(`POST /v1/sign {"class": ${JSON.stringify(cls)}}`, body.status === 400, `${body.status}`);
  }
}

// 5. Storage's own ports and secrets: nothing but S3 may answer without the stack's credentials.
if (storageHost) {
  const answer = (url, init = {}) =>
    fetch(url, { ...init, signal: AbortSignal.timeout(3000) }).then(
      async (r) => (await r.arrayBuffer(), r.status),
      (error) => `unreachable (${error.cause?.code ?? error.name})`,
    );
  const refused = (status) => typeof status === 'string' || status >= 400;

  const del = await answer(`http://${storageHost}:${ports.master}/col/delete?collection=images`);
  record(`SeaweedFS master (${ports.master}): anonymous /col/delete?collection=images`, refused(del), `${del}`);
  const list = await answer(`http://${storageHost}:${ports.filer}/buckets/images/`, { headers: { accept: 'application/json' } });
  record(`SeaweedFS filer HTTP (${ports.filer}): anonymous list`, refused(list), `${list}`);
  const form = new FormData();
  form.append('file', new Blob(['probe']));
  const write = await answer(`http://${storageHost}:${ports.volume}/1,01637037d6`, { method: 'POST', body: form });
  record(`SeaweedFS volume (${ports.volume}): write without a JWT`, write === 401 || typeof write === 'string', `${write}`);
  // 401 before any lookup: a 404 would mean the volume server looked the file id up without asking for a token.
  const read = await answer(`http://${storageHost}:${ports.volume}/1,01637037d6`);
  record(`SeaweedFS volume (${ports.volume}): read without a JWT`, read === 401 || typeof read === 'string', `${read}`);

  // weed shell with no security.toml and no WEED_* settings: the filer's and master's gRPC.
  const weed = process.env.WEED_BIN ?? new URL('../../.venv-s3/bin/weed', import.meta.url).pathname;
  if (existsSync(weed)) {
    const home = mkdtempSync(join(tmpdir(), 'probe-weed-'));
    const shell = spawnSync(weed, ['shell', `-master=${storageHost}:${ports.master}.${grpc.master}`, `-filer=${storageHost}:${ports.filer}.${grpc.filer}`], {
      input: 'fs.ls /buckets\nfs.configure\n',
      env: { PATH: process.env.PATH ?? '', HOME: home },
      cwd: home,
      timeout: 10_000,
      encoding: 'utf8',
    });
    rmSync(home, { recursive: true, force: true });
    const out = `${shell.stdout ?? ''}${shell.stderr ?? ''}`;
    const listed = /\bimages\b/.test(out) || /locationPrefix|"locations"/.test(out);
    record(`SeaweedFS gRPC (${grpc.master}, ${grpc.filer}): weed shell without credentials`, !listed, listed ? 'listed the buckets' : 'nothing listed');
  } else {
    record('SeaweedFS gRPC: weed shell without credentials', true, `not tried (no weed at ${weed})`);
  }
}

// 6. Secrets on disk: readable by their owner alone.
{
  const files = ['secrets.json', 'seaweedfs/s3.json', 'seaweedfs/security/ca.key', 'seaweedfs/security/weed.key'].map((f) => join(dataDir, f)).filter((f) => existsSync(f));
  const wide = files.filter((f) => (statSync(f).mode & 0o077) !== 0);
  if (files.length > 0) record(`secret files under ${dataDir} readable by others`, wide.length === 0, wide.length === 0 ? `${files.length} files, all 0600` : wide.map((f) => `${f} ${(statSync(f).mode & 0o777).toString(8)}`).join(', '));
}

const width = Math.max(...results.map((r) => r.attack.length));
for (const r of results) console.log(`${r.held ? 'held' : 'OPEN'}  ${r.attack.padEnd(width)}  ${r.got}`);
const open = results.filter((r) => !r.held).length;
console.log(`\n${results.length - open} held, ${open} open (${base})`);
process.exit(open > 0 ? 1 : 0);
