// A TCP proxy in front of a real server that can simulate an outage: pass traffic through, refuse
// connections, cut every upload midway (a PUT's headers and half its body get through, then the
// connection is reset, as when the network or the server dies during the upload), or hang (accept
// new connections and never answer, as a server that is wedged).
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = { kind: 'pass' } | { kind: 'refuse' } | { kind: 'cut-uploads' } | { kind: 'hang' };

export interface CuttingProxy {
  endpoint: string;
  mode: ProxyMode;
  /** Uploads cut so far. */
  cuts: number;
  stop(): Promise<void>;
}

export async function startCuttingProxy(target: string): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: CuttingProxy = { endpoint: '', mode: { kind: 'pass' }, cuts: 0, stop: async () => {} };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (proxy.mode.kind === 'refuse') {
      client.destroy();
      return;
    }
    if (proxy.mode.kind === 'hang') return; // held open, read by no one, until stop()
    const upstream = connect(Number(port), hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    // While cutting: hold back each PUT until its headers are complete, then let half its body pass.
    let pending = Buffer.alloc(0);
    let allowance = Infinity;
    client.on('data', (chunk: Buffer) => {
      if (proxy.mode.kind === 'refuse') {
        upstream.resetAndDestroy();
        client.resetAndDestroy();
        return;
      }
      // The mode is read per chunk, so connections kept alive from before an outage suffer it too.
      if (proxy.mode.kind !== 'cut-uploads' && allowance === Infinity && pending.length === 0) {
        upstream.write(chunk);
        return;
      }
      if (allowance === Infinity) {
        pending = Buffer.concat([pending, chunk]);
        const headerEnd = pending.indexOf('\r\n\r\n');
        if (!pending.subarray(0, 4).equals(Buffer.from('PUT '))) {
          if (headerEnd >= 0 || pending.length > 4) {
            upstream.write(pending);
            pending = Buffer.alloc(0);
          }
          return;
        }
        if (headerEnd < 0) return;
        const length = Number(/content-length:\s*(\d+)/i.exec(pending.subarray(0, headerEnd).toString('latin1'))?.[1] ?? 0);
        allowance = headerEnd + 4 + Math.floor(length / 2);
        chunk = pending;
        pending = Buffer.alloc(0);
      }
      if (chunk.length >= allowance) {
        upstream.write(chunk.subarray(0, allowance), () => {
          proxy.cuts++;
          upstream.resetAndDestroy();
          client.resetAndDestroy();
        });
        allowance = 0;
        return;
      }
      allowance -= chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    upstream.on('end', () => client.end());
    client.on('end', () => upstream.end());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  proxy.endpoint = `http://127.0.0.1:${address.port}`;
  proxy.stop = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
