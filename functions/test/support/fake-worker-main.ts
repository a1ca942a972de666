// `npm run dev:fake-worker`: the test stand-in for the GPU worker on port 8790 (wrangler.toml's dev
// WORKER_URLS), so the playground shows images locally before gpu-worker/ exists. Patterns, not digits.
import { startFakeWorker } from './fake-worker.js';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8790);
const secret = process.env.WORKER_SECRET ?? 'dev-worker-secret';
const worker = await startFakeWorker({ mode: 'ok', secret });
// Forward the fixed port to the fake worker's ephemeral one.
createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const upstream = await fetch(worker.url + req.url, {
    method: req.method,
    headers: Object.fromEntries(Object.entries(req.headers).filter(([, v]) => typeof v === 'string') as [string, string][]),
    body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
  });
  const headers: Record<string, string> = {};
  upstream.headers.forEach((value, name) => (headers[name] = value));
  res.writeHead(upstream.status, headers);
  res.end(Buffer.from(await upstream.arrayBuffer()));
}).listen(port, '127.0.0.1', () => console.log(JSON.stringify({ event: 'fake-worker', url: `http://127.0.0.1:${port}` })));
