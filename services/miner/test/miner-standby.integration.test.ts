// Three miners, two partitions: ordinals 0 and 1 mine, ordinal 2 stands by. When the owner of partition 0
// stops, the stand-by takes partition 0 over, resuming where the chain says, and nothing is lost or doubled.
import { afterEach, describe, expect, it } from 'vitest';
import { derivedTransactionId } from '@chainlog/core/protocol';
import { eventually } from '../../../test/support/kafka.js';
import {
  ARTICLE_TRANSACTION,
  consensusOf,
  minerEnv,
  produce,
  rebuildChain,
  startMiner,
  testTopics,
  transactionCounts,
  type RunningMiner,
} from './support/miners.js';

describe('a stand-by miner', () => {
  const running: RunningMiner[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((miner) => miner.stop()));
  });

  it('takes over the partition of an owner that stops', async () => {
    const topics = testTopics('standby');
    const envFor = (ordinal: number): Record<string, string> =>
      minerEnv(topics, { MINER_REPLICAS: '3', MINER_ORDINAL: String(ordinal), MINER_ID: `standby-test-${ordinal}`, MAX_BLOCK_WAIT_MS: '200' });
    const [m0, m1, m2] = [await startMiner(envFor(0)), await startMiner(envFor(1)), await startMiner(envFor(2))] as const;
    running.push(m0, m1, m2);
    await eventually(() => {
      expect([m0.miner.ownedPartitions, m1.miner.ownedPartitions, m2.miner.ownedPartitions]).toEqual([[0], [1], []]);
    }, 30_000);

    const produceBoth = (count: number): Promise<{ partition: number; offset: number }[]> =>
      produce(
        topics.TOPIC_TRANSACTIONS,
        Array.from({ length: count }, (_, i) => ({ partition: i % 2, value: ARTICLE_TRANSACTION })),
      );
    const coveredUpTo = (positions: { partition: number; offset: number }[]) => async () => {
      for (const partition of [0, 1]) {
        const last = Math.max(...positions.filter((p) => p.partition === partition).map((p) => p.offset));
        expect(m1.miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, partition)).toBe(last);
      }
    };

    const before = await produceBoth(6);
    await eventually(coveredUpTo(before), 30_000);
    const heightAtHandover = m1.miner.chain.height;

    await m0.stop();
    await eventually(() => expect(m2.miner.ownedPartitions).toEqual([0]), 30_000);
    expect(m1.miner.ownedPartitions).toEqual([1]);

    const after = await produceBoth(8);
    await eventually(coveredUpTo([...before, ...after]), 60_000);

    const { blocks, rejected } = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(envFor(0)));
    const counts = transactionCounts(blocks);
    const expected = [...before, ...after].map(({ partition, offset }) => derivedTransactionId(topics.TOPIC_TRANSACTIONS, partition, offset));
    expect([...counts.keys()].sort()).toEqual(expected.sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    // Partition 0 was mined by ordinal 0 before the handover and by the stand-by after; never by ordinal 1.
    const minersOf = (partition: number, fromIndex: number, toIndex: number): Set<string> =>
      new Set(blocks.filter((b) => b.index > fromIndex && b.index <= toIndex && b.sources.some((s) => s.partition === partition)).map((b) => b.miner));
    expect(minersOf(0, 0, heightAtHandover)).toEqual(new Set(['standby-test-0']));
    expect(minersOf(0, heightAtHandover, Infinity)).toEqual(new Set(['standby-test-2']));
    expect(minersOf(1, 0, Infinity)).toEqual(new Set(['standby-test-1']));
    expect(rejected.every((r) => r.reason === 'stale' || r.reason === 'fork')).toBe(true);
  });
});
