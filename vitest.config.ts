import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          // A real pod start (image pull included) and its teardown take tens of seconds.
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // The e2e tests share one cluster; running them one at a time keeps timings honest.
          fileParallelism: false,
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
      {
        test: {
          // Runs after everything else (hack/test.sh): takes the local cluster down and checks what is left.
          name: 'lifecycle',
          include: ['test/lifecycle/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
        },
      },
    ],
  },
});
