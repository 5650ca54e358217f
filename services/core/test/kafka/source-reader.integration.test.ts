// The transactions topic as a chain reader reads it for source coverage, against the real broker: a partition
// added while the reader runs (a scale-up) must be read within seconds. With kafkajs' default metadata age the
// reader learnt of it only after 5 minutes, and every block of the new partition stayed undecided that long.
import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureTopics, SourceReader } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { eventually, testKafka, uniqueTopic } from '../../../../test/support/kafka.js';

/** Writes one record to the partition with a fresh producer (one created earlier may not know the partition yet). */
async function produce(kafka: Kafka, topic: string, partition: number, value: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ partition, value }] });
  } finally {
    await producer.disconnect();
  }
}

describe('SourceReader', () => {
  const readers: SourceReader[] = [];
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((reader) => reader.stop()));
  });

  it('reads a partition added to the topic while it runs, within seconds', { timeout: 120_000 }, async () => {
    const kafka = testKafka();
    const topic = uniqueTopic('transactions-grow');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [{ topic, partitions: 1 }]);
      await produce(kafka, topic, 0, 'first');
      const reader = new SourceReader({ kafka, topic, logger: createLogger('test', 'silent') });
      readers.push(reader);
      await reader.start();
      await eventually(() => expect(reader.readThrough(0)).toBe(0), 30_000);

      await admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] });
      await produce(kafka, topic, 1, 'on the new partition');
      expect((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 1)?.high).toBe('1');
      const began = Date.now();
      // Well under kafkajs' 5-minute default, with room for a loaded machine.
      await eventually(() => expect(reader.readThrough(1)).toBe(0), 60_000, 200);
      expect(Date.now() - began).toBeLessThan(60_000);
      expect(reader.records(1, 0, 0).map((record) => record.value?.toString())).toEqual(['on the new partition']);
    } finally {
      await admin.disconnect();
    }
  });
});
