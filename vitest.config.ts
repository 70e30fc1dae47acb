import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (co-located tests under backend/src: no build, no servers, seconds)
 * and `int` (process-level tests under backend/tests: they build the server and start it
 * as `npm start` does, against a database of their own). `npm test` runs both;
 * `npx vitest run --project unit` runs one.
 */
export default defineConfig({
  test: {
    // Process-level tests start real servers; two files at a time suits a 2-core machine.
    maxWorkers: 2,
    teardownTimeout: 30_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['backend/src/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'int',
          include: ['backend/tests/**/*.test.ts'],
          globalSetup: ['backend/testing/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
