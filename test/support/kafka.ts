// Test helpers for the shared broker started by global-setup.ts.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { ensureTopics } from '@chainlog/core/kafka';

export function kafkaBrokers(): string {
  const brokers = inject('kafkaBrokers') as string | undefined;
  // Only vitest.config.ts (npm test) starts the shared broker; the unit tier (npm run test:unit) has none.
  if (!brokers) throw new Error('no Kafka broker in this run: a test that needs Kafka is named *.integration.test.ts and runs in `npm test`');
  return brokers;
}

/** Topic names unique to one test, so tests sharing the broker never see each other's messages. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A new topic (uniqueTopic's name) with this many partitions, created on the broker; returns its name. */
export async function createTopic(kafka: Kafka, prefix: string, partitions = 1): Promise<string> {
  const topic = uniqueTopic(prefix);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, partitions }]);
  } finally {
    await admin.disconnect();
  }
  return topic;
}

export function testKafka(brokers = kafkaBrokers()): Kafka {
  return new Kafka({
    clientId: 'chainlog-test',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

/** Polls until the check passes or the deadline is reached, then fails with the last error. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
