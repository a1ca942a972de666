// The worker's tests: the real model from models/, the real S3 server from test/support/, one fork
// per file so the ONNX sessions and SeaweedFS instances of different files do not share a process.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './test/support/plain-summary.ts'],
    pool: 'forks',
    // The machine has two cores and may be busy: run files one after another, with roomy timeouts.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
