// Entry point: read the configuration, start the worker, drain on SIGTERM/SIGINT.
import './encode/thread-pool-size.js';
import { ConfigError, readConfig } from './config/index.js';
import { createLogger } from './logging/index.js';
import { GpuWorker } from './worker.js';

let config;
try {
  config = readConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`error: ${error.message}\n`);
  process.exit(2);
}

const log = createLogger(config.logLevel);
const worker = await GpuWorker.start(config, { log }).catch((error: Error) => {
  log.fatal({ err: error }, `cannot start: ${error.message}`);
  process.exit(1);
});
worker.ready.catch((error: Error) => {
  log.fatal(`cannot serve: ${error.message}`);
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutdown requested');
    worker.shutdown().then(
      () => process.exit(0),
      (error: Error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
