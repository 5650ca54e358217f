// `npm run test:compose`: the project's docker-compose.yml, unmodified, on a real Docker engine (docs/running.md).
// Not part of `npm test`: it needs Docker and the images of `npm run images`, and takes minutes.
import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

export default defineConfig({
  // The root's module resolution (workspaces import each other's TypeScript sources), not its test globs or
  // its global setup (no test broker: compose runs its own Kafka).
  ...root,
  test: {
    ...root.test,
    include: ['test/compose/**/*.e2e.ts'],
    globalSetup: [],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
