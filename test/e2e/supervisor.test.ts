// The local stack's supervisor (infra/local/supervisor.mjs) on real child processes: a killed
// process is started again in its place, a crash loop is given up with the service's name and
// why, and neither a stop nor a deliberate restart counts as a crash.
import { describe, expect, it } from 'vitest';
import { startService, type Service } from '../../infra/local/processes.mjs';
import { supervise } from '../../infra/local/supervisor.mjs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A node process running `script`; ready at once. */
function process_(name: string, script: string) {
  return (onSpawn: (service: Service) => void = () => {}) => {
    const service = startService(name, process.execPath, ['-e', script], { silent: true, onSpawn });
    return Promise.resolve({ service });
  };
}
const lives = process_('sleeper', 'setInterval(() => {}, 1000)');

async function until(check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

describe('supervisor', () => {
  it('starts a killed process again and publishes the new one', async () => {
    const lines: string[] = [];
    const published: Service[] = [];
    const first = await lives();
    const supervisor = supervise({ name: 'worker-1', first, start: lives, onRestarted: (next) => published.push(next.service), log: (l) => lines.push(l), baseMs: 10 });
    first.service.child.kill('SIGKILL');
    await until(() => published.length === 1);
    expect(published[0]!.exited).toBe(false);
    expect(published[0]!.child.pid).not.toBe(first.service.child.pid);
    expect(supervisor.current.service).toBe(published[0]);
    expect(lines.join('\n')).toMatch(/worker-1 exited \(SIGKILL\); restarting it in 0\.01 s/);
    expect(lines.join('\n')).toMatch(/worker-1 is back/);
    await supervisor.stop();
    expect(published[0]!.exited).toBe(true);
  });

  it('gives up after a crash loop, naming the service, its exit and its last lines', async () => {
    const crashes = process_('storage', 'console.error("bind: address already in use"); process.exit(3)');
    const supervisor = supervise({ name: 'storage', first: await crashes(), start: crashes, log: () => {}, restarts: 3, windowMs: 60_000, baseMs: 10, maxMs: 40 });
    const failure = await supervisor.gaveUp;
    expect(failure.name).toBe('storage');
    expect(failure.reason).toMatch(/exited \(3\), after 3 restarts within 60 s/);
    expect(failure.reason).toContain('bind: address already in use');
    await supervisor.stop();
  });

  it('counts a start that fails as a restart, and gives up on a service that never comes back', async () => {
    let starts = 0;
    const first = await lives();
    const supervisor = supervise({
      name: 'worker-0',
      first,
      start: async () => {
        starts += 1;
        throw new Error('worker-0 exited (1) before ready (/readyz); its last lines:\nError: model.onnx not found');
      },
      log: () => {},
      restarts: 2,
      baseMs: 10,
    });
    first.service.child.kill('SIGKILL');
    const failure = await supervisor.gaveUp;
    expect(starts).toBe(2);
    expect(failure.reason).toMatch(/could not start again \(worker-0 exited \(1\) before ready \(\/readyz\)\), after 2 restarts/);
  });

  it('does not restart a process it was told to stop, nor count a deliberate restart as a crash', async () => {
    let restarted = 0;
    const first = await lives();
    const supervisor = supervise({ name: 'edge', first, start: lives, onRestarted: () => restarted++, log: () => {}, restarts: 1, baseMs: 10 });
    await supervisor.restart();
    await supervisor.restart();
    expect(restarted).toBe(2);
    expect(first.service.exited).toBe(true);
    const current = supervisor.current.service;
    await supervisor.stop();
    await sleep(100);
    expect(current.exited).toBe(true);
    expect(restarted).toBe(2);
    expect(await Promise.race([supervisor.gaveUp.then(() => 'gave up'), sleep(50).then(() => 'running')])).toBe('running');
  });
});
