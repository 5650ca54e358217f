// The miners' consumer of the transactions topic across rebalances, on the real broker: a partition paused
// (its pending pool full) and then lost to another miner must be read again when this miner gains it back.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@chainlog/core/logging';
import { TransactionsConsumer, type TransactionMessage } from '../src/kafka/transactions-consumer.js';
import { eventually, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { ARTICLE_TRANSACTION, produce } from './support/miners.js';

const logger = createLogger('miner', 'silent');

interface Member {
  readonly consumer: TransactionsConsumer;
  readonly received: TransactionMessage[];
  readonly assigned: number[][];
}

function member(topic: string, groupId: string, ordinal: number): Member {
  const received: TransactionMessage[] = [];
  const assigned: number[][] = [];
  const consumer = new TransactionsConsumer({
    kafka: testKafka(),
    topic,
    groupId,
    ordinal,
    replicas: 2,
    sessionTimeoutMs: 6000,
    logger,
    onAssigned: (partitions) => {
      assigned.push(partitions);
      return partitions.map((partition) => ({ partition, offset: 0, gained: true }));
    },
    onMessage: async (message) => {
      received.push(message);
    },
  });
  return { consumer, received, assigned };
}

describe('TransactionsConsumer', () => {
  const started: TransactionsConsumer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((consumer) => consumer.stop()));
  });

  it('reads a partition again that it paused, lost and gained back', async () => {
    const topic = uniqueTopic('consumer-regain');
    const groupId = uniqueTopic('consumer-regain-group');
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    // Miner 0 alone owns both partitions, and pauses partition 1 (as a full pending pool does).
    const first = member(topic, groupId, 0);
    started.push(first.consumer);
    await first.consumer.start();
    await eventually(() => expect(first.assigned.at(-1)).toEqual([0, 1]), 30_000);
    first.consumer.pause(1);
    // Miner 1 joins and takes partition 1; then it leaves, and partition 1 goes back to miner 0.
    const second = member(topic, groupId, 1);
    await second.consumer.start();
    await eventually(() => expect(first.assigned.at(-1)).toEqual([0]), 30_000);
    await second.consumer.stop();
    await eventually(() => expect(first.assigned.at(-1)).toEqual([0, 1]), 30_000);
    expect(first.consumer.isPaused(1)).toBe(false);

    await produce(topic, [
      { partition: 0, value: ARTICLE_TRANSACTION },
      { partition: 1, value: ARTICLE_TRANSACTION },
    ]);
    await eventually(() => expect(new Set(first.received.map((message) => message.partition))).toEqual(new Set([0, 1])), 30_000);
  });
});
