// `npm run test:unit`: the fast tier. Every test file that runs inside the test process alone: no Kafka broker,
// no child process (services, helm, kubeconform, etcd, java), nothing to install first. The rule is the file name:
// a test that needs any of those is named `*.integration.test.ts` and runs only in `npm test` (vitest.config.ts,
// which starts the shared broker). test/support/unit-guard.ts makes a unit file that breaks the rule fail, with
// the rename as its message, instead of slowing this tier down or starting something on a developer's machine.
import { defineConfig } from 'vitest/config';
import root from './vitest.config.js';

export const INTEGRATION_TESTS = '**/*.integration.test.ts';

export default defineConfig({
  ...root,
  test: {
    ...root.test,
    // The chaos suites (test/chaos) have their own configs and are integration tests by nature.
    exclude: ['**/node_modules/**', INTEGRATION_TESTS, 'test/chaos/**'],
    globalSetup: [],
    setupFiles: ['test/support/unit-guard.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Pure CPU work in worker threads that keep their module cache between files (isolate: false): importing the
    // services' sources once per worker instead of once per file. Measured on the same loaded 2 cores, 41 files:
    // threads 32 s, threads without isolation 25 s, forks 52 s, forks without isolation 30 s (the whole tier is
    // about 13 CPU-seconds). So a unit test must not depend on fresh module state: build registries, stores and
    // clocks per test.
    maxWorkers: undefined,
    pool: 'threads',
    isolate: false,
  },
});
