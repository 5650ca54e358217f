// A Kafka broker of the benchmark's own (free ports, a fresh data dir in /tmp, removed afterwards), so the
// figures are not polluted by other engineers' test topics on the shared development broker. `--brokers`
// (or BENCH_KAFKA_BROKERS) uses an existing broker instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTopics } from '@chainlog/core/kafka';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { startBroker, waitUntilAnswering } from '../../scripts/lib/kafka-broker.js';
import { allocatePort } from '../../scripts/lib/ports.js';

export interface BenchBroker {
  readonly brokers: string;
  readonly own: boolean;
  /** The broker's process id when it is our own. */
  readonly pid?: number;
  stop(): Promise<void>;
}

export async function benchBroker(existing?: string, heapMb = 1024): Promise<BenchBroker> {
  const named = existing ?? process.env.BENCH_KAFKA_BROKERS;
  if (named !== undefined && named !== '') {
    await waitUntilAnswering(named, 10_000);
    return { brokers: named, own: false, stop: async () => undefined };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-bench-kafka-'));
  const started = Date.now();
  const broker = await startBroker({
    dataDir,
    port: await allocatePort(),
    controllerPort: await allocatePort(),
    heapMb,
    // The default 1 MiB is too small for blocks of several thousand transactions.
    extraProperties: { 'message.max.bytes': String(64 * 2 ** 20), 'replica.fetch.max.bytes': String(64 * 2 ** 20) },
  });
  console.log(`started a broker of our own at ${broker.brokers} (pid ${broker.pid}, ${dataDir}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // Ctrl-C must not leave a broker running.
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  return { brokers: broker.brokers, own: true, pid: broker.pid, stop };
}

export function benchKafka(brokers: string, clientId = 'chainlog-bench'): Kafka {
  return new Kafka({
    clientId,
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
  });
}

/**
 * Creates the topics (infinite retention, large messages allowed) and waits until they have leaders, through the
 * shared ensureTopics (kafkajs' own leader wait gives up on a 4.x broker whose metadata lags for a moment).
 */
export async function createTopics(kafka: Kafka, topics: ReadonlyArray<{ topic: string; partitions: number }>): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(
      admin,
      topics.map(({ topic, partitions }) => ({ topic, partitions, replicationFactor: 1, config: { 'max.message.bytes': String(64 * 2 ** 20) } })),
    );
  } finally {
    await admin.disconnect();
  }
}

let counter = 0;
export function benchTopic(prefix: string): string {
  counter += 1;
  return `bench-${prefix}-${Date.now().toString(36)}-${counter}`;
}
