// The local three-node KRaft cluster (scripts/lib/kafka-cluster.ts): topics get three replicas with
// min.insync.replicas=2, acks=all writes survive the loss of any one node (the active controller included)
// and are refused, not silently under-replicated, when two are gone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigResourceTypes } from 'kafkajs';
import { createKafka, ensureTopics } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { startCluster, type RunningCluster } from '../scripts/lib/kafka-cluster.js';
import { eventually, uniqueTopic } from './support/kafka.js';

describe('a three-node Kafka cluster', () => {
  let dataDir: string;
  let cluster: RunningCluster;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chainlog-cluster-test-'));
    cluster = await startCluster({ dataDir, nodes: 3, heapMb: 256 });
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const client = () => createKafka({ brokers: cluster.brokers.split(','), clientId: 'cluster-test', connectionTimeoutMs: 2000, requestTimeoutMs: 10_000 }, createLogger('test', 'silent'), 8);

  it('creates topics with three replicas and min.insync.replicas=2, and acks=all writes survive a lost leader and a lost controller', async () => {
    const topic = uniqueTopic('replicated');
    const kafka = client();
    const admin = kafka.admin();
    await admin.connect();
    const changes = await ensureTopics(admin, [{ topic, partitions: 2 }]);
    expect(changes).toEqual([`created ${topic} with 2 partition(s) × 3 replicas (min.insync.replicas=2)`]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions.map((p) => p.replicas.length)).toEqual([3, 3]);
    const configs = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('2');
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const send = (value: string) => producer.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
    await send('before');

    const leader = await cluster.leaderOf(topic, 0);
    await cluster.node(leader).kill('SIGKILL');
    await eventually(() => send('leader lost'), 60_000, 500);
    expect(await cluster.leaderOf(topic, 0)).not.toBe(leader);
    await cluster.node(leader).start();
    await cluster.waitUntilHealthy([topic]);

    const controller = await eventually(() => cluster.activeController() ?? Promise.reject(new Error('no controller yet')), 30_000, 500);
    await cluster.node(controller).kill('SIGKILL');
    const successor = await eventually(() => {
      const next = cluster.activeController();
      return next !== undefined && next !== controller ? next : Promise.reject(new Error('no new controller yet'));
    }, 60_000, 500);
    expect(successor).not.toBe(controller);
    await eventually(() => send('controller lost'), 60_000, 500);
    await producer.disconnect();

    // Two of three gone: an acks=all write is refused rather than acknowledged with a single copy.
    const other = cluster.nodes.find((node) => node.id !== controller && node.alive);
    const survivor = cluster.nodes.find((node) => node.alive && node !== other);
    expect(survivor).toBeDefined();
    await other?.kill('SIGKILL');
    const lone = createKafka({ brokers: [`127.0.0.1:${survivor?.port}`], clientId: 'cluster-test-lone', connectionTimeoutMs: 2000, requestTimeoutMs: 5000 }, createLogger('test', 'silent'), 1);
    const loneProducer = lone.producer({ idempotent: true, maxInFlightRequests: 1 });
    await loneProducer.connect().catch(() => undefined);
    await expect(loneProducer.send({ topic, acks: -1, messages: [{ value: 'one of three', partition: 0 }] })).rejects.toThrow();
    await loneProducer.disconnect().catch(() => undefined);
  }, 300_000);
});
