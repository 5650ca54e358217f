// `npm run test:explorer`: the explorer end to end, in Debian's chromium driven by playwright-core, against
// the stack `npm start` runs (its own broker, ports and data dir). Not part of `npm test`: see docs/explorer.md.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@chainlog/source'] },
  ssr: { resolve: { conditions: ['@chainlog/source'] } },
  test: {
    include: ['services/explorer/test/**/*.e2e.ts'],
    testTimeout: 180_000,
    // Starting the stack builds it first (tsc -b and vite), which takes minutes on a cold, busy machine.
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
