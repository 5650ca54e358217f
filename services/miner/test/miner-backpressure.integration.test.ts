// A backlog larger than the pending bound: the partition is paused while its pool is full and resumed
// as blocks drain it, so memory stays bounded and still every message is mined exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { derivedTransactionId } from '@chainlog/core/protocol';
import { eventually } from '../../../test/support/kafka.js';
import { ARTICLE_TRANSACTION, consensusOf, minerEnv, produce, rebuildChain, startMiner, testTopics, transactionCounts, type RunningMiner } from './support/miners.js';

describe('the pending bound', () => {
  const running: RunningMiner[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((miner) => miner.stop()));
  });

  it('pauses a partition while its pool is full, and loses nothing', async () => {
    const topics = testTopics('backpressure');
    const env = minerEnv(topics, { MAX_PENDING_PER_PARTITION: '4', CUT_AT_PENDING_TRANSACTIONS: '2', MAX_BLOCK_WAIT_MS: '100' });
    const started = await startMiner(env);
    running.push(started);
    const positions = await produce(topics.TOPIC_TRANSACTIONS, Array.from({ length: 30 }, () => ({ partition: 0, value: ARTICLE_TRANSACTION })));
    await eventually(() => expect(started.miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, 0)).toBe(29), 60_000);

    expect(started.miner.stats.pendingHighWater).toBe(4);
    expect(started.miner.stats.pauses).toBeGreaterThan(0);
    const { blocks } = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(env));
    const counts = transactionCounts(blocks);
    expect([...counts.keys()].sort()).toEqual(positions.map(({ offset }) => derivedTransactionId(topics.TOPIC_TRANSACTIONS, 0, offset)).sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  });
});
