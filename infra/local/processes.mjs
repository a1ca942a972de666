// Child processes of the local stack: spawn with prefixed output, wait until an HTTP probe answers,
// stop with SIGTERM (then SIGKILL after a grace period).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on loopback (the kernel picks it; a race with another process is possible but rare). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `command args` as a named service. Output lines go to `log` prefixed with the name;
 * quiet: only stderr; silent: nothing, but the last lines are kept in `service.tail` for errors.
 * onSpawn(service) runs at once, so that a caller can stop a service that is still starting.
 */
export function startService(name, command, args, { cwd, env, quiet = false, silent = false, log = (l) => process.stderr.write(l + '\n'), onLine, onSpawn } = {}) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const service = { name, child, exited: false, exitCode: null, tail: [] };
  service.exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      service.exited = true;
      service.exitCode = code ?? signal;
      resolve(service.exitCode);
    });
    child.on('error', (error) => {
      log(`[${name}] cannot start: ${error.message}`);
      service.exited = true;
      service.exitCode = 'spawn-error';
      resolve(service.exitCode);
    });
  });
  const pipe = (stream, isErr) => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!isErr) onLine?.(line);
        service.tail.push(line);
        if (service.tail.length > 40) service.tail.shift();
        if (!silent && (!quiet || isErr)) log(`[${name}] ${line}`);
      }
    });
  };
  pipe(child.stdout, false);
  pipe(child.stderr, true);
  service.stop = async (graceMs = 10_000) => {
    if (service.exited) return service.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => !service.exited && child.kill('SIGKILL'), graceMs);
    const code = await service.exit;
    clearTimeout(timer);
    return code;
  };
  onSpawn?.(service);
  return service;
}

/** Polls `check()` (true when ready) until it succeeds, the service exits, or the timeout passes. */
export async function waitUntil(service, description, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.exited) throw new Error(`${service.name} exited (${service.exitCode}) before ${description}; its last lines:\n${service.tail.join('\n')}`);
    try {
      if (await check()) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`${service.name}: ${description} did not happen within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** True when GET url answers 200. */
export async function answers200(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return response.status === 200;
}
