// Keeps one service of the local stack running: when its process exits on its own (a crash, a
// kill -9), it is started again after a backoff, in the same place (port, data folder), so the
// others keep reaching it where they did. A crash loop (more than `restarts` restarts within
// `windowMs`) gives up: `gaveUp` resolves with the service's name and why, and the stack stops.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last lines a service wrote, for the message that says why it was given up. */
function lastLines(service, count = 5) {
  const lines = (service?.tail ?? []).filter((line) => line.trim() !== '').slice(-count);
  return lines.length > 0 ? `; its last lines:\n${lines.map((line) => `  ${line}`).join('\n')}` : '';
}

/**
 * first: the running instance ({ service, … } as startSeaweed/startWorker/startEdge return it);
 * start(onSpawn): starts another in the same place and resolves once it is ready (rejects if it
 * is not); onRestarted(instance): the new instance, for the stack to publish. Backoff: baseMs,
 * doubling with each restart in the window, at most maxMs.
 */
export function supervise({ name, first, start, onRestarted = () => {}, log = (line) => process.stderr.write(line + '\n'), restarts = 5, windowMs = 60_000, baseMs = 500, maxMs = 8_000 }) {
  let current = first;
  let stopped = false;
  let spawning; // a service started by a restart and not yet ready
  let recovering; // the restart in progress, if any
  const times = [];
  let giveUp;
  const gaveUp = new Promise((resolve) => (giveUp = resolve));

  const onSpawn = (service) => {
    spawning = service;
    if (stopped) void service.stop();
  };

  const watch = (instance) => {
    void instance.service.exit.then((code) => {
      if (stopped || instance.retired) return;
      instance.retired = true;
      recovering = recover(`exited (${code})`, instance.service).finally(() => (recovering = undefined));
    });
  };

  async function recover(why, lastService) {
    for (;;) {
      const now = Date.now();
      while (times.length > 0 && times[0] <= now - windowMs) times.shift();
      if (times.length >= restarts) {
        stopped = true;
        giveUp({ name, reason: `${why}, after ${times.length} restarts within ${windowMs / 1000} s${lastLines(lastService)}` });
        return;
      }
      const delay = Math.min(maxMs, baseMs * 2 ** times.length);
      times.push(now);
      log(`[stack] ${name} ${why}; restarting it in ${delay / 1000} s`);
      await sleep(delay);
      if (stopped) return;
      try {
        const next = await start(onSpawn);
        spawning = undefined;
        if (stopped) {
          await next.service.stop();
          return;
        }
        current = next;
        onRestarted(next);
        log(`[stack] ${name} is back`);
        watch(next);
        return;
      } catch (error) {
        if (stopped) return;
        lastService = spawning;
        spawning = undefined;
        // Its first line says what failed; the service's own last lines are added once, at the end.
        why = `could not start again (${String(error?.message ?? error).split('\n')[0].replace(/; its last lines:$/, '')})`;
      }
    }
  }

  watch(first);
  return {
    name,
    get current() {
      return current;
    },
    gaveUp,
    /** Stops the service on purpose and starts it again in its place (tests: an empty edge cache). */
    async restart() {
      await recovering;
      const old = current;
      old.retired = true;
      await old.service.stop();
      const next = await start(onSpawn);
      spawning = undefined;
      current = next;
      onRestarted(next);
      watch(next);
      return next;
    },
    /** No more restarts; stops the service (and one that a restart is starting). */
    async stop() {
      stopped = true;
      await Promise.all([spawning?.stop(), current.service.stop()]);
    },
  };
}
