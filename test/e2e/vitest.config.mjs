// End-to-end tests: the real stack (infra/local) — SeaweedFS, GPU worker(s) on the shipped model,
// the edge on Node — driven over HTTP. `npm run test:e2e`.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  test: {
    include: ['**/*.test.ts'],
    environment: 'node',
    // One stack per file is heavy (a model per worker): files run one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
