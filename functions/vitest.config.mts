// Two runs of the same suites: inside workerd (the Workers build, via the vitest pool for
// Workers) and on Node (the Node build). The global setup starts S3 and the fake GPU workers once.
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    projects: [
      {
        extends: true,
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: './src/runtime/workers.ts',
            wrangler: { configPath: '../wrangler.toml' },
            miniflare: { bindings: { TEST_EDGE: JSON.stringify(inject('edge')) } },
          })),
        ],
        test: {
          name: 'workers',
          include: ['src/**/*.test.ts', 'test/workers/**/*.test.ts'],
          exclude: ['src/**/*.node.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['src/**/*.test.ts', 'test/node/**/*.test.ts'],
          exclude: ['src/**/*.workers.test.ts'],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
