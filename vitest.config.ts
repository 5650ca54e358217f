import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspaces import each other's TypeScript sources in tests (see the "@chainlog/source" export condition).
    conditions: ['@chainlog/source'],
  },
  ssr: {
    resolve: {
      conditions: ['@chainlog/source'],
    },
  },
  test: {
    include: ['services/*/test/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Run by `npm run test:reliability` (test/chaos/vitest.quick.config.ts).
    exclude: ['**/node_modules/**', 'test/chaos/quick.test.ts', 'test/security.integration.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one broker and two cores: run files in parallel, but not too many.
    maxWorkers: 2,
    pool: 'forks',
  },
});
