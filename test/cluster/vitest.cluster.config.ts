// `npm run test:cluster`: the Helm chart on the local Kubernetes of `npm run cluster:up` (docs/running.md).
// Not part of `npm test`: it needs the cluster and the images of `npm run images`, and takes many minutes.
import { defineConfig } from 'vitest/config';
import root from '../../vitest.config.js';

export default defineConfig({
  ...root,
  test: {
    ...root.test,
    include: ['test/cluster/**/*.e2e.ts'],
    // No test broker: the chart brings its own Kafka.
    globalSetup: [],
    testTimeout: 1_200_000,
    hookTimeout: 1_200_000,
    maxWorkers: 1,
    fileParallelism: false,
    // Scenarios build on each other (one release, scaled, upgraded, then uninstalled): in file order.
    sequence: { concurrent: false },
  },
});
