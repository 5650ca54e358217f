// The foundation: a real broker, the idempotent producer with acks from all in-sync replicas,
// and a broker that dies mid-test makes clients fail fast rather than hang.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createKafka, ensureTopics, partitionCount } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { ConfigResourceTypes } from 'kafkajs';
import { startBroker } from '../scripts/lib/kafka-broker.js';
import { allocatePort } from '../scripts/lib/ports.js';
import { testKafka, uniqueTopic } from './support/kafka.js';

describe('the real Kafka broker', () => {
  it('round-trips messages through an idempotent producer (acks=-1) and a consumer', async () => {
    const kafka = testKafka();
    const topic = uniqueTopic('roundtrip');
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, partitions: 2 }]);
    expect(await partitionCount(admin, topic)).toBe(2);
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = ['a', 'b', 'c'].map((value, index) => ({ key: `k${index}`, value, partition: index % 2 }));
    const acks = await producer.send({ topic, acks: -1, messages: sent });
    expect(acks.map((ack) => ack.errorCode)).toEqual(acks.map(() => 0));
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueTopic('roundtrip-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { partition: number; value: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            received.push({ partition, value: message.value?.toString() ?? '' });
            if (received.length === sent.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(received.sort((a, b) => a.value.localeCompare(b.value))).toEqual(
      sent.map(({ partition, value }) => ({ partition, value })),
    );
  });

  it('grows partitions but never shrinks them', async () => {
    const admin = testKafka().admin();
    await admin.connect();
    const topic = uniqueTopic('grow');
    await ensureTopics(admin, [{ topic, partitions: 1 }]);
    const grown = await ensureTopics(admin, [{ topic, partitions: 3 }]);
    const unchanged = await ensureTopics(admin, [{ topic, partitions: 2 }]);
    expect(grown).toEqual([`grew ${topic} from 1 to 3 partitions`]);
    expect(unchanged).toEqual([]);
    expect(await partitionCount(admin, topic)).toBe(3);
    expect(await partitionCount(admin, uniqueTopic('absent'))).toBeUndefined();
    await admin.disconnect();
  });

  it('sets a spec\'s extra topic configuration at creation, next to the infinite retention', async () => {
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const topic = uniqueTopic('config');
      await ensureTopics(admin, [{ topic, partitions: 1, config: { 'max.message.bytes': '4194304' } }]);
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
      const entries = Object.fromEntries(described.resources[0]!.configEntries.map((entry) => [entry.configName, entry.configValue]));
      expect(entries['max.message.bytes']).toBe('4194304');
      expect(entries['retention.ms']).toBe('-1');
    } finally {
      await admin.disconnect();
    }
  });

  it('fails a send within bounded time when its broker is stopped mid-test', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-stop-test-'));
    const broker = await startBroker({ dataDir, port: await allocatePort(), controllerPort: await allocatePort(), heapMb: 256 });
    // Also when the test times out (the body is abandoned, not unwound): no broker outlives it.
    onTestFinished(() => broker.stop());
    try {
      const kafka = createKafka(
        { brokers: [broker.brokers], clientId: 'stop-test', connectionTimeoutMs: 1000, requestTimeoutMs: 3000 },
        createLogger('test', 'silent'),
        2,
      );
      const admin = kafka.admin();
      await admin.connect();
      const topic = uniqueTopic('stopped');
      await ensureTopics(admin, [{ topic, partitions: 1 }]);
      await admin.disconnect();
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: 'before' }] });

      await broker.stop();
      const started = Date.now();
      await expect(producer.send({ topic, acks: -1, messages: [{ value: 'after' }] })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(30_000);
      await producer.disconnect().catch(() => undefined);
    } finally {
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

});
