// `npm start`: the whole stack on this machine with the shipped model(s), configured by the
// environment (see the table printed by --help and README.md). A process that dies is restarted
// (5 restarts within 60 s of one service end the stack); Ctrl-C stops every process it started.
import { readModelRepository } from '@imf/contract/models/node';
import { startStack } from './start-stack.mjs';

/** The model folders served (read by the contract's model repository reader) and an image URL of each, for the printed lines. */
function servedModels(modelsDir, origin) {
  // The edge redirects the short URL to its canonical form.
  return readModelRepository(modelsDir).models.map(({ manifest }) => ({
    id: manifest.id,
    example: `${origin}/v1/images/${manifest.id}/${Math.min(3, manifest.classes.length - 1)}.png`,
  }));
}

const HELP = `npm start — storage, GPU worker(s) and the edge, with the models under models/

  PORT=8787             edge port (0: any free port)        HOST=127.0.0.1   edge address
  DEV_API_KEY=…         development API key (default: generated once, kept in .data/secrets.json)
  WORKERS=1             number of GPU worker processes
  STACK_STORAGE=s3      s3: SeaweedFS (.venv-s3/bin/weed) on STACK_S3_PORT (8333), data in .data/seaweedfs
                        fs: files in .data/images, written by the workers, read by the Node edge
  STACK_EDGE=node       node: functions/ on Node · workerd: functions/ under wrangler dev
  STACK_DATA_DIR=.data  where images, secrets and state live between starts
  STACK_MODELS_DIR=models  the model folders to serve (each with a model.json; Node edge only if not models/)
  WORKER_LOG_LEVEL=warn the workers' LOG_LEVEL; LOG_REQUESTS=false silences the edge's request lines`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}

const env = process.env;
const starting = new AbortController();
let stack;
let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  console.error('\nstopping the stack…');
  starting.abort(); // still starting: startStack stops what it started, then rejects
  await stack?.stop();
  if (stack) process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  stack = await startStack({
    storage: env.STACK_STORAGE ?? 's3',
    workers: Number(env.WORKERS ?? 1),
    edge: env.STACK_EDGE ?? 'node',
    port: Number(env.PORT ?? 8787),
    host: env.HOST ?? '127.0.0.1',
    dataDir: env.STACK_DATA_DIR,
    modelsDir: env.STACK_MODELS_DIR,
    signal: starting.signal,
  });
} catch (error) {
  if (stopping) process.exit(0);
  console.error(`error: ${error.message}`);
  process.exit(1);
}

if (stopping) {
  // The signal came as the last part became ready: stop() saw no stack yet.
  await stack.stop();
  process.exit(0);
}

const served = servedModels(stack.modelsDir, stack.url);
console.log(`
imf stack is up
  url          ${stack.url}            (playground at /, API docs at /docs)
  api key      ${stack.apiKey}
  edge         ${stack.edge.runtime}
  models       ${served.map((m) => m.id).join(', ')}   (${stack.modelsDir})
  workers      ${stack.workers.map((w) => w.url).join(', ')}
  storage      ${stack.storage.kind === 's3' ? `SeaweedFS S3 at ${stack.storage.endpoint}, bucket ${stack.storage.bucket}` : `files in ${stack.storage.dir}`} (${stack.dataDir})

${served.map((m) => `  curl -L -H 'Authorization: Bearer ${stack.apiKey}' '${m.example}' -o ${m.id}.png`).join('\n')}
A worker, storage or the edge that dies is restarted; Ctrl-C stops everything.`);

// A service that dies is restarted in place (start-stack.mjs); only a crash loop ends the stack.
const failure = await stack.crashLoop;
if (!stopping) {
  console.error(`${failure.name} keeps dying (${failure.reason}); stopping the stack`);
  await stop(1);
}
