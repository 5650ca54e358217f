// `npm run test:chaos`: the full chaos suite (docs/reliability.md). Its scenarios are *.chaos.ts files, so the
// root config's `test/**/*.test.ts` never picks them up; the short variant inside `npm test` is quick.test.ts.
// Scenarios run one at a time: they measure races and memory, and share two cores with everything else.
// CHAOS_REPORT=<file> also writes the summary table there (docs/reliability.md shows one).
import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

export default defineConfig({
  // The root's module resolution (workspaces import each other's TypeScript sources), not its test globs.
  ...root,
  test: {
    ...root.test,
    include: ['test/chaos/**/*.chaos.ts'],
    globalSetup: ['test/support/global-setup.ts', 'test/support/chaos-setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
