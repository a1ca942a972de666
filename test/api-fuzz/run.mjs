#!/usr/bin/env node
// `npm run test:api-fuzz`: schemathesis (PyPI, in .venv-fuzz/) generates requests from the edge's
// own /openapi.json and sends them to the real stack — SeaweedFS, a GPU worker on the shipped
// model, the edge on Node — with the development API key. The one check is not_a_server_error: no
// input, however odd, may get a 5xx. FUZZ_MAX_EXAMPLES (cases per operation and phase, default 50)
// bounds the run to about a minute here; FUZZ_SEED (default 1) makes it repeatable. Prints a table
// of the answers per operation; exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startStack } from '../../infra/local/start-stack.mjs';

const schemathesis = join(repoRoot, '.venv-fuzz', 'bin', 'schemathesis');
if (!existsSync(schemathesis)) {
  console.error(`schemathesis not found at ${schemathesis}: run bash test/api-fuzz/setup.sh`);
  process.exit(2);
}
const maxExamples = process.env.FUZZ_MAX_EXAMPLES ?? '50';
const seed = process.env.FUZZ_SEED ?? '1';

const dataDir = mkdtempSync(join(tmpdir(), 'imf-fuzz-'));
const events = join(dataDir, 'schemathesis.ndjson');
let stack;
let code = 1;
try {
  stack = await startStack({
    storage: 's3',
    s3Ports: 'free',
    workers: 1,
    edge: 'node',
    port: 0,
    dataDir,
    quiet: true,
    // Rate limits out of the way: a 429 is a fine answer, but it would hide what lies behind it.
    env: { ...process.env, DEV_API_KEY: '', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_BURST: '100000', LOG_REQUESTS: 'false' },
  });
  const document = await (await fetch(`${stack.url}/openapi.json`)).json();
  const documented = new Set(Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)));
  const args = [
    'run', `${stack.url}/openapi.json`,
    '--header', `Authorization: Bearer ${stack.apiKey}`,
    '--checks', 'not_a_server_error',
    '--max-examples', maxExamples,
    '--seed', seed,
    '--report', 'ndjson', '--report-ndjson-path', events,
  ];
  const status = await new Promise((resolve) => {
    // Run in the throw-away folder: schemathesis keeps a cache (.schemathesis/) where it runs.
    const child = spawn(schemathesis, args, { cwd: dataDir, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
    child.on('exit', (exitCode) => resolve(exitCode ?? 1));
  });
  const rows = tally(events, documented);
  console.log(table(rows));
  const serverErrors = [...rows.values()].reduce((n, r) => n + r['5xx'], 0);
  code = status === 0 && serverErrors === 0 ? 0 : 1;
} catch (error) {
  console.error(`error: ${error.message}`);
} finally {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);

/**
 * Cases per documented operation from schemathesis's event stream, by the class of the status they
 * got; the methods it tries that the document does not list share one row.
 */
function tally(path, documented) {
  const rows = new Map();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.includes('"ScenarioFinished"')) continue;
    const { recorder } = JSON.parse(line).ScenarioFinished;
    for (const [id, interaction] of Object.entries(recorder?.interactions ?? {})) {
      const { method, path: template } = recorder.cases[id].value;
      const operation = documented.has(`${method} ${template}`) ? `${method} ${template}` : 'undocumented methods';
      const row = rows.get(operation) ?? { cases: 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, failed: 0 };
      row.cases += 1;
      const status = interaction.response?.status_code;
      if (status) row[`${Math.floor(status / 100)}xx`] += 1;
      if ((recorder.checks?.[id] ?? []).some((check) => check.status === 'failure')) row.failed += 1;
      rows.set(operation, row);
    }
  }
  return rows;
}

function table(rows) {
  const lines = ['', `schemathesis over /openapi.json: check not_a_server_error, ${maxExamples} examples per operation and phase, seed ${seed}`, '', '| operation | cases | 2xx | 3xx | 4xx | 5xx | failed |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const total = { cases: 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, failed: 0 };
  for (const [operation, row] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`| ${operation} | ${row.cases} | ${row['2xx']} | ${row['3xx']} | ${row['4xx']} | ${row['5xx']} | ${row.failed} |`);
    for (const key of Object.keys(total)) total[key] += row[key];
  }
  lines.push(`| **all** | ${total.cases} | ${total['2xx']} | ${total['3xx']} | ${total['4xx']} | ${total['5xx']} | ${total.failed} |`);
  return lines.join('\n');
}
