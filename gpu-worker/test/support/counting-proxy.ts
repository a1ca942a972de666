// An HTTP proxy in front of a real S3 server that records every call it passes on (method, path,
// whether it was a conditional put, and the status that came back), so tests can count the
// storage calls a piece of work cost.
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';

export interface StorageCall {
  method: string;
  /** The request path, decoded: `/<bucket>/<object key>`. */
  path: string;
  /** Whether it carried If-None-Match: * (a write-once put). */
  conditional: boolean;
  status: number;
}

export interface CountingProxy {
  endpoint: string;
  calls: StorageCall[];
  /** The calls for one object key. */
  callsFor(objectKey: string): StorageCall[];
  stop(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const calls: StorageCall[] = [];
  const server: Server = createServer((req, res) => {
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        calls.push({ method: req.method ?? '', path: decodeURIComponent((req.url ?? '').split('?')[0]!), conditional: req.headers['if-none-match'] === '*', status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    callsFor: (objectKey) => calls.filter((call) => call.path.endsWith(`/${objectKey}`)),
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
