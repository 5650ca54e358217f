// The transactions topic as a chain reader reads it for source coverage, against the real broker: a partition
// added while the reader runs (a scale-up) must be read within seconds. With kafkajs' default metadata age the
// reader learnt of it only after 5 minutes, and every block of the new partition stayed undecided that long.
// A reader whose worker thread dies says so: its owner (the chain follower) then fails instead of waiting.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKafka, ensureTopics, SourceReader } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from '../../../../test/support/kafka.js';

/** A client as the services make it: the reader then consumes on a worker thread (source-feed.ts). */
function serviceKafka(): Kafka {
  const settings = { brokers: kafkaBrokers().split(','), clientId: 'chainlog-test', connectionTimeoutMs: 2000, requestTimeoutMs: 5000 };
  return createKafka(settings, createLogger('test', 'silent'), 3);
}

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

describe.each([
  { name: 'a worker thread', kafka: serviceKafka, thread: 'worker' as const },
  { name: 'the calling thread', kafka: testKafka, thread: 'calling' as const },
])('SourceReader consuming on $name', ({ kafka: makeKafka, thread }) => {
  const readers: SourceReader[] = [];
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((reader) => reader.stop()));
  });

  it('hands over every record byte for byte in offset order, keeps them until discarded, and pauses far ahead only', { timeout: 120_000 }, async () => {
    const kafka = makeKafka();
    const topic = uniqueTopic('transactions-read');
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    try {
      await ensureTopics(admin, [{ topic, partitions: 1 }]);
      const values = Array.from({ length: 40 }, (_, i) => (i === 5 ? null : i === 6 ? '' : `{"amount":${i + 1},"from":"alice","to":"bob"}`));
      // Several sends: several batches, so several packed chunks.
      for (let i = 0; i < values.length; i += 7) {
        await producer.send({ topic, acks: -1, messages: values.slice(i, i + 7).map((value, j) => ({ value, timestamp: String(1_700_000_000_000 + i + j) })) });
      }
      // Far fewer kept records allowed than exist: the reader pauses, yet a block waiting past them is served.
      const reader = new SourceReader({ kafka, topic, logger: createLogger('test', 'silent'), maxBuffered: 10, thread });
      readers.push(reader);
      await reader.start();
      await reader.waitFor(0, 39, 60_000);
      expect(reader.readThrough(0)).toBe(39);
      const read = reader.records(0, 0, 39);
      expect(read.map(({ offset }) => offset)).toEqual(values.map((_, i) => i));
      expect(read.map(({ value }) => (value === null ? null : Buffer.from(value).toString()))).toEqual(values);
      expect(read.map(({ timestamp }) => timestamp)).toEqual(values.map((_, i) => 1_700_000_000_000 + i));
      expect(reader.records(0, 12, 14).map(({ offset }) => offset)).toEqual([12, 13, 14]);

      reader.discardThrough(0, 20);
      expect(reader.records(0, 0, 39).map(({ offset }) => offset)).toEqual(values.map((_, i) => i).slice(21));
      reader.discardThrough(0, 39);
      expect(reader.records(0, 0, 39)).toEqual([]);

      // Resumed once the chain consumed what was kept: later records still arrive.
      await producer.send({ topic, acks: -1, messages: [{ value: 'after' }] });
      await reader.waitFor(0, 40, 60_000);
      expect(reader.records(0, 40, 40).map(({ value }) => Buffer.from(value ?? []).toString())).toEqual(['after']);
      await reader.refreshEnds();
      expect(reader.atEnd(0)).toBe(true);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('reads a partition marked on demand only while a block waits for it, and skips what the chain consumed without it', { timeout: 120_000 }, async () => {
    const kafka = makeKafka();
    const topic = uniqueTopic('transactions-on-demand');
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    const send = async (partition: number, from: number, count: number): Promise<void> => {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ partition, value: `record ${from + i}` })) });
    };
    try {
      await ensureTopics(admin, [{ topic, partitions: 2 }]);
      await send(0, 0, 10);
      await send(1, 0, 1);
      const reader = new SourceReader({ kafka, topic, logger: createLogger('test', 'silent'), thread });
      reader.readOnDemand([0]);
      readers.push(reader);
      await reader.start();
      // Partition 1 is read ahead; partition 0, with records written before either, is not.
      await eventually(() => expect(reader.readThrough(1)).toBe(0), 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(reader.readThrough(0)).toBe(-1);

      // The chain consumed offsets 0..5 without their records (a block this process checked itself): skipped.
      reader.discardThrough(0, 5);
      expect(reader.readThrough(0)).toBe(5);
      // A block waits for 6..8: fetched from 6 on, nothing before.
      await reader.waitFor(0, 8, 60_000);
      expect(reader.readThrough(0)).toBeGreaterThanOrEqual(8);
      // A fetch under way when the pause reaches the consumer still delivers (a worker thread's pause is a message).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const through = reader.readThrough(0);
      expect(reader.records(0, 0, 9).map(({ value }) => Buffer.from(value ?? []).toString())).toEqual(
        Array.from({ length: through - 5 }, (_, i) => `record ${6 + i}`),
      );

      // Served, it stops again: records written to both partitions later reach partition 1 only.
      await send(0, 10, 5);
      await send(1, 1, 1);
      await eventually(() => expect(reader.readThrough(1)).toBe(1), 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(reader.readThrough(0)).toBe(through);

      // No longer on demand: read ahead like any other partition.
      reader.readOnDemand([]);
      await eventually(() => expect(reader.readThrough(0)).toBe(14), 30_000);
      expect(reader.records(0, through + 1, 14).map(({ offset }) => offset)).toEqual(Array.from({ length: 14 - through }, (_, i) => through + 1 + i));
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('reads a partition added to the topic while it runs, within seconds', { timeout: 120_000 }, async () => {
    const kafka = makeKafka();
    const topic = uniqueTopic('transactions-grow');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [{ topic, partitions: 1 }]);
      await produce(kafka, topic, 0, 'first');
      const reader = new SourceReader({ kafka, topic, logger: createLogger('test', 'silent'), thread });
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

/**
 * A source reader on a worker thread over a new topic holding one record, with the Worker objects it makes (caught as
 * the feed registers its listeners: the reader does not expose its thread); `onWorker` sees each new one first.
 */
async function readerWithWatchedWorkers(name: string, onWorker: (worker: Worker, seen: number) => void = () => undefined) {
  const kafka = serviceKafka();
  const topic = uniqueTopic(name);
  const admin = kafka.admin();
  await admin.connect();
  const workers = new Set<Worker>();
  const on = vi.spyOn(Worker.prototype, 'on').mockImplementation(function (this: Worker, ...args: Parameters<Worker['on']>) {
    if (!workers.has(this)) onWorker(this, workers.size);
    workers.add(this);
    return EventEmitter.prototype.on.apply(this, args) as Worker;
  });
  const failures: Error[] = [];
  const reader = new SourceReader({ kafka, topic, logger: createLogger('test', 'silent'), thread: 'worker', onFailure: (error) => failures.push(error) });
  await ensureTopics(admin, [{ topic, partitions: 1 }]);
  await produce(kafka, topic, 0, 'first');
  const close = async (): Promise<void> => {
    on.mockRestore();
    await reader.stop();
    await admin.disconnect();
  };
  return { reader, workers, failures, close };
}

describe('SourceReader whose worker thread dies', () => {
  it('reports the failure to its owner (blocks waiting for its records would otherwise wait for ever)', { timeout: 120_000 }, async () => {
    const { reader, workers, failures, close } = await readerWithWatchedWorkers('transactions-dying');
    try {
      await reader.start();
      // It starts in the background once the topic exists; a record read means its thread runs (a thread
      // killed while starting is replaced, not reported: see the next test).
      await eventually(() => expect(reader.readThrough(0)).toBe(0), 60_000);
      expect(workers.size).toBeGreaterThanOrEqual(1);
      expect(failures).toEqual([]);
      await Promise.all([...workers].map((worker) => worker.terminate()));
      await eventually(() => expect(failures.map((error) => error.message)).toEqual([expect.stringContaining('thread exited')]), 10_000);
    } finally {
      await close();
    }
  });

  it('replaces a thread that dies before it started, and stops without waiting for that thread again', { timeout: 120_000 }, async () => {
    // The first thread is killed as soon as the feed listens to it: before it could start its consumer.
    const { reader, workers, failures, close } = await readerWithWatchedWorkers('transactions-dying-early', (worker, seen) => {
      if (seen === 0) setImmediate(() => void worker.terminate());
    });
    try {
      await reader.start();
      // A second thread reads the record: the start was retried (it waited for ever for the first one's exit).
      await eventually(() => expect(reader.readThrough(0)).toBe(0), 60_000);
      expect(workers.size).toBeGreaterThanOrEqual(2);
      expect(failures).toEqual([]);
    } finally {
      await close();
    }
  });
});
