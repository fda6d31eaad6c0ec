import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration tests share one Docker engine and one PostgreSQL server; files run in
    // parallel but on a 2-core machine more than two workers only adds contention.
    maxWorkers: 2,
    // Removes lease networks this run's agents left behind (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
  },
});
