// `npm run test:soak-restart`: the kill-and-restart soak on a long chain (issue #21), not part of `npm test` nor of
// `npm run test:chaos` (its default chain of 10 million transactions takes most of an hour to generate on a busy
// two-core machine). Sizes: SOAK_TRANSACTIONS, SOAK_LIVE, SOAK_SECONDS (test/chaos/restart-soak.soak.ts).
import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

export default defineConfig({
  ...root,
  test: {
    ...root.test,
    include: ['test/chaos/**/*.soak.ts'],
    // Its own broker (bench/lib/broker.ts, sized for 2000-transaction blocks): no shared test broker.
    globalSetup: [],
    testTimeout: 4 * 3_600_000,
    hookTimeout: 4 * 3_600_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
