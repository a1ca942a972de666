#!/usr/bin/env node
// `npm run bench:edge`: bundles the benchmark (TypeScript, like the edge) with esbuild and runs it.
// Options via the environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50),
// BENCH_RUNTIMES (node,workerd).
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(root, '.cache', 'bench');
mkdirSync(out, { recursive: true });

// The Worker the workerd leg runs: the edge app plus a bare route, bundled for workerd.
await build({
  entryPoints: [join(here, 'worker-entry.ts')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  external: ['cloudflare:*'],
  outfile: join(out, 'worker.mjs'),
  logLevel: 'warning',
});
await build({
  entryPoints: [join(here, 'edge-bench.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // The contract is TypeScript source: bundle it, as the Node edge's build does.
  alias: { '@imf/contract': join(root, 'contract', 'src') },
  outfile: join(out, 'edge-bench.mjs'),
  logLevel: 'warning',
});
await import(pathToFileURL(join(out, 'edge-bench.mjs')).href);
