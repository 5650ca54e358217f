// `npm run test:reliability`: the short chaos variant and the security tests (to rejoin `npm test` once the
// hostile-writer scenario is stable on a loaded 2-core machine). They start several
// service processes (and brokers) each, so they run after the main suite, one file at a time, instead of
// competing with it for the two cores.
import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

const QUICK_RELIABILITY_TESTS = ['test/chaos/quick.test.ts', 'test/security.integration.test.ts'];

export default defineConfig({
  ...root,
  test: {
    ...root.test,
    include: QUICK_RELIABILITY_TESTS,
    exclude: [],
    globalSetup: ['test/support/global-setup.ts', 'test/support/chaos-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
