// Helpers for the miner's integration tests: unique topics, in-process miners, producing transactions,
// and an independent rebuild of the canonical chain from the blockchain topic with the protocol's Chain.
import type { KafkaMessage } from 'kafkajs';
import type { LogLevel } from '@chainlog/core/config';
import { createKafka } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { type Block, Chain, type ConsensusParams } from '@chainlog/core/protocol';
import { readConfig } from '../../src/config.js';
import { MinerService } from '../../src/service.js';
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../../test/support/kafka.js';

export interface TestTopics {
  TOPIC_TRANSACTIONS: string;
  TOPIC_BLOCKCHAIN: string;
  TOPIC_DEAD_LETTER: string;
  MINER_GROUP_ID: string;
}

export function testTopics(prefix: string): TestTopics {
  return {
    TOPIC_TRANSACTIONS: uniqueTopic(`${prefix}-tx`),
    TOPIC_BLOCKCHAIN: uniqueTopic(`${prefix}-chain`),
    TOPIC_DEAD_LETTER: uniqueTopic(`${prefix}-dlq`),
    MINER_GROUP_ID: uniqueTopic(`${prefix}-miners`),
  };
}

/** Env for a miner in tests: low difficulty, fast group membership, unique topics. */
export function minerEnv(topics: TestTopics, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: kafkaBrokers(),
    ...topics,
    DIFFICULTY: '8',
    BLOCK_REWARD: '50',
    MINER_SESSION_TIMEOUT_MS: '6000',
    HTTP_PORT: '0',
    HOSTNAME: 'test-miner-0',
    MINER_ID: 'test-miner-0',
    ...overrides,
  };
}

export const consensusOf = (env: Record<string, string>): ConsensusParams => readConfig(env).consensus;

/** MINER_TEST_LOG=info (or debug) shows the miners' logs while debugging a test. */
const TEST_LOG_LEVEL = (process.env.MINER_TEST_LOG ?? 'silent') as LogLevel;

export interface RunningMiner {
  miner: MinerService;
  registry: ReturnType<typeof createMetricsRegistry>;
  stop: () => Promise<void>;
}

export async function startMiner(env: Record<string, string>): Promise<RunningMiner> {
  const config = readConfig(env);
  const logger = createLogger('miner', TEST_LOG_LEVEL).child({ minerId: config.minerId });
  const registry = createMetricsRegistry('miner');
  const miner = new MinerService({ config, logger, registry, kafka: createKafka(config.kafka, logger) });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= miner.stop());
  try {
    await miner.start();
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { miner, registry, stop };
}

export interface ProducedMessage {
  partition: number;
  value: string | null;
  key?: string;
}

/** Produces the messages (one request per partition); returns each message's position, in input order. */
export async function produce(topic: string, messages: ProducedMessage[]): Promise<{ partition: number; offset: number }[]> {
  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const positions = new Array<{ partition: number; offset: number }>(messages.length);
    for (const partition of [...new Set(messages.map((m) => m.partition))]) {
      const indexes = messages.flatMap((m, i) => (m.partition === partition ? [i] : []));
      const [ack] = await producer.send({
        topic,
        acks: -1,
        messages: indexes.map((i) => ({ value: messages[i]?.value ?? null, partition, key: messages[i]?.key ?? null })),
      });
      const base = Number(ack?.baseOffset);
      indexes.forEach((messageIndex, i) => (positions[messageIndex] = { partition, offset: base + i }));
    }
    return positions;
  } finally {
    await producer.disconnect();
  }
}

export const ARTICLE_TRANSACTION = JSON.stringify({ from: 'alice', to: 'bob', amount: 3 });

/** Every message of every partition of the topic, up to its end when called, in offset order per partition. */
export async function readTopic(topic: string, timeoutMs = 30_000): Promise<(KafkaMessage & { partition: number })[]> {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, Number(high)]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, end]) => end > 0).map(([partition]) => partition));
  const messages: (KafkaMessage & { partition: number })[] = [];
  if (pending.size === 0) return messages;
  const consumer = kafka.consumer({ groupId: uniqueTopic('read-topic'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} took longer than ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = ends.get(partition) ?? 0;
            if (Number(message.offset) >= end) return;
            messages.push({ ...message, partition });
            if (Number(message.offset) === end - 1) pending.delete(partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

export interface RebuiltChain {
  chain: Chain;
  /** Canonical blocks, genesis first. */
  blocks: Block[];
  rejected: { offset: number; reason: string; claimedMiner?: string }[];
}

/** The canonical chain, rebuilt from the topic by a Chain of our own (not the miners' follower). */
export async function rebuildChain(topic: string, consensus: ConsensusParams): Promise<RebuiltChain> {
  const chain = new Chain(consensus);
  const blocks: Block[] = [];
  const rejected: RebuiltChain['rejected'] = [];
  for (const message of await readTopic(topic)) {
    const result = chain.apply(message.value ?? new Uint8Array(0));
    if (result.accepted) blocks.push(result.block);
    else rejected.push({ offset: Number(message.offset), reason: result.reason, ...(result.claimedMiner ? { claimedMiner: result.claimedMiner } : {}) });
  }
  return { chain, blocks, rejected };
}

/** How often each transaction id appears in the canonical blocks (coinbases left out). */
export function transactionCounts(blocks: readonly Block[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const block of blocks) {
    for (const transaction of block.transactions.slice(1)) counts.set(transaction.id, (counts.get(transaction.id) ?? 0) + 1);
  }
  return counts;
}

/** Asserts-by-return: the source ranges of the blocks tile each partition from 0 with no gap or overlap. */
export function sourceTiling(blocks: readonly Block[], topic: string): Map<number, [number, number][]> {
  const ranges = new Map<number, [number, number][]>();
  for (const block of blocks) {
    for (const source of block.sources) {
      if (source.topic !== topic) continue;
      ranges.set(source.partition, [...(ranges.get(source.partition) ?? []), [source.firstOffset, source.lastOffset]]);
    }
  }
  return ranges;
}

export async function metricValue(registry: RunningMiner['registry'], name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number }[];
  return values.reduce((sum, { value }) => sum + value, 0);
}
