// Starts a real Kafka broker for the whole test run, or uses the one named by KAFKA_BROKERS.
// A broker that cannot start fails the run loudly: integration tests are never skipped silently.
// CHAINLOG_TEST_KAFKA_NODES=3 runs the suite on a three-node KRaft cluster instead (scripts/lib/kafka-cluster.ts);
// CHAINLOG_KAFKA_VERSION picks the Kafka release (scripts/lib/kafka-broker.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startBroker, waitUntilAnswering } from '../../scripts/lib/kafka-broker.js';
import { startCluster } from '../../scripts/lib/kafka-cluster.js';
import { allocatePort } from '../../scripts/lib/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

let broker: { brokers: string; stop(): Promise<void> } | undefined;
let dataDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const existing = process.env.KAFKA_BROKERS;
  if (existing) {
    await waitUntilAnswering(existing, 10_000);
    project.provide('kafkaBrokers', existing);
    return;
  }
  dataDir = mkdtempSync(join(tmpdir(), 'chainlog-test-kafka-'));
  const nodes = Number(process.env.CHAINLOG_TEST_KAFKA_NODES ?? 1);
  broker =
    nodes > 1
      ? await startCluster({ dataDir, nodes })
      : await startBroker({ dataDir, port: await allocatePort(), controllerPort: await allocatePort() });
  project.provide('kafkaBrokers', broker.brokers);
}

export async function teardown(): Promise<void> {
  await broker?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
