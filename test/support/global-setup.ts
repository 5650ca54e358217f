// Starts a real Kafka broker for the whole test run, or uses the one named by KAFKA_BROKERS.
// A broker that cannot start fails the run loudly: integration tests are never skipped silently.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startBroker, waitUntilAnswering, type RunningBroker } from '../../scripts/lib/kafka-broker.js';
import { allocatePort } from '../../scripts/lib/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

let broker: RunningBroker | undefined;
let dataDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const existing = process.env.KAFKA_BROKERS;
  if (existing) {
    await waitUntilAnswering(existing, 10_000);
    project.provide('kafkaBrokers', existing);
    return;
  }
  dataDir = mkdtempSync(join(tmpdir(), 'chainlog-test-kafka-'));
  broker = await startBroker({ dataDir, port: await allocatePort(), controllerPort: await allocatePort() });
  project.provide('kafkaBrokers', broker.brokers);
}

export async function teardown(): Promise<void> {
  await broker?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
