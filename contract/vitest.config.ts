// The contract's own tests, on Node: the rules of the canonical form, keys, signatures and the
// manifest schema, against the shipped model folders under models/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
