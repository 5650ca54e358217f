// Poison messages between valid ones: the valid ones are mined, the poison ones are dead-lettered with
// their source position and reason, and the block's source range covers them so the partition moves on.
import { afterEach, describe, expect, it } from 'vitest';
import { derivedTransactionId } from '@chainlog/core/protocol';
import { DEAD_LETTER_HEADERS } from '../src/kafka/producer.js';
import { eventually } from '../../../test/support/kafka.js';
import {
  ARTICLE_TRANSACTION,
  consensusOf,
  metricValue,
  minerEnv,
  produce,
  readTopic,
  rebuildChain,
  sourceTiling,
  startMiner,
  testTopics,
  type RunningMiner,
} from './support/miners.js';

describe('poison messages', () => {
  const running: RunningMiner[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((miner) => miner.stop()));
  });

  it('are dead-lettered and covered, while the valid messages around them are mined', async () => {
    const topics = testTopics('poison');
    const env = minerEnv(topics, { CUT_AT_PENDING_TRANSACTIONS: '3', MAX_BLOCK_WAIT_MS: '300' });
    const started = await startMiner(env);
    running.push(started);
    const { miner, registry } = started;

    const messages = [
      { partition: 0, value: ARTICLE_TRANSACTION, key: 'alice' },
      { partition: 0, value: 'not json', key: 'k1' },
      { partition: 0, value: ARTICLE_TRANSACTION, key: 'alice' },
      { partition: 0, value: JSON.stringify({ from: 'alice', to: 'bob' }), key: 'k3' },
      { partition: 0, value: ARTICLE_TRANSACTION, key: 'alice' },
      { partition: 0, value: ARTICLE_TRANSACTION, key: 'alice' },
      // A poison message last: nothing valid follows it, the block timer still gets its offset covered.
      { partition: 0, value: null, key: 'tombstone' },
    ];
    const positions = await produce(topics.TOPIC_TRANSACTIONS, messages);
    await eventually(() => expect(miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, 0)).toBe(6), 30_000);

    const { blocks } = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(env));
    const included = blocks.flatMap((b) => b.transactions.slice(1).map((t) => t.id));
    expect(included).toEqual([0, 2, 4, 5].map((offset) => derivedTransactionId(topics.TOPIC_TRANSACTIONS, 0, positions[offset]?.offset ?? -1)));
    const ranges = sourceTiling(blocks, topics.TOPIC_TRANSACTIONS).get(0) ?? [];
    expect(ranges[0]?.[0]).toBe(0);
    expect(ranges.at(-1)?.[1]).toBe(6);

    const deadLetters = await eventually(async () => {
      const found = await readTopic(topics.TOPIC_DEAD_LETTER);
      expect(found).toHaveLength(3);
      return found;
    });
    const header = (message: (typeof deadLetters)[number], name: string): string | undefined => message.headers?.[name]?.toString();
    expect(
      deadLetters.map((m) => ({
        key: m.key?.toString(),
        value: m.value?.toString() ?? null,
        topic: header(m, DEAD_LETTER_HEADERS.sourceTopic),
        partition: header(m, DEAD_LETTER_HEADERS.sourcePartition),
        offset: header(m, DEAD_LETTER_HEADERS.sourceOffset),
      })),
    ).toEqual([
      { key: 'k1', value: 'not json', topic: topics.TOPIC_TRANSACTIONS, partition: '0', offset: '1' },
      { key: 'k3', value: '{"from":"alice","to":"bob"}', topic: topics.TOPIC_TRANSACTIONS, partition: '0', offset: '3' },
      { key: 'tombstone', value: null, topic: topics.TOPIC_TRANSACTIONS, partition: '0', offset: '6' },
    ]);
    expect(deadLetters.map((m) => header(m, DEAD_LETTER_HEADERS.reason))).toEqual([
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/amount is required/),
      expect.stringMatching(/no value/),
    ]);
    expect(await metricValue(registry, 'chainlog_miner_poison_messages_total')).toBe(3);
  });
});
