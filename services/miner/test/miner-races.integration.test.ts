// Two miners, one partition each, cutting blocks at the same moments at a low difficulty: they race for
// every height. Whatever wins, each transaction ends up exactly once in the canonical chain, and each
// lost race is a rejected block on the topic that its miner counted as orphaned.
import { afterEach, describe, expect, it } from 'vitest';
import { derivedTransactionId } from '@chainlog/core/protocol';
import { eventually } from '../../../test/support/kafka.js';
import {
  ARTICLE_TRANSACTION,
  consensusOf,
  metricValue,
  minerEnv,
  produce,
  rebuildChain,
  sourceTiling,
  startMiner,
  testTopics,
  transactionCounts,
  type RunningMiner,
} from './support/miners.js';

describe('two miners racing', () => {
  const running: RunningMiner[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((miner) => miner.stop()));
  });

  it('never loses or duplicates a transaction, and counts every lost race', async () => {
    const topics = testTopics('races');
    const common = { MINER_REPLICAS: '2', DIFFICULTY: '6', CUT_AT_PENDING_TRANSACTIONS: '2', MAX_BLOCK_WAIT_MS: '150' };
    const envA = minerEnv(topics, { ...common, MINER_ORDINAL: '0', MINER_ID: 'racer-a' });
    const envB = minerEnv(topics, { ...common, MINER_ORDINAL: '1', MINER_ID: 'racer-b' });
    const a = await startMiner(envA);
    running.push(a);
    const b = await startMiner(envB);
    running.push(b);
    await eventually(() => {
      expect(a.miner.ownedPartitions).toEqual([0]);
      expect(b.miner.ownedPartitions).toEqual([1]);
    }, 30_000);

    // Bursts to both partitions at once, so both miners cut a block on the same tip at the same time.
    const produced: { partition: number; offset: number }[] = [];
    const plain: { partition: number; offset: number }[] = [];
    for (let round = 0; round < 10; round++) {
      const burst = [0, 0, 1, 1].map((partition) => ({ partition, value: ARTICLE_TRANSACTION }));
      // The same user id on both partitions: only one of the two may ever be committed.
      const duplicated = round % 5 === 0 ? [0, 1].map((partition) => ({ partition, value: JSON.stringify({ id: `dup-${round}`, from: 'carol', to: 'dan', amount: 1 }) })) : [];
      const positions = await produce(topics.TOPIC_TRANSACTIONS, [...burst, ...duplicated]);
      produced.push(...positions);
      plain.push(...positions.slice(0, burst.length));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const lastOffset = (partition: number): number => Math.max(...produced.filter((p) => p.partition === partition).map((p) => p.offset));
    await eventually(() => {
      for (const miner of [a.miner, b.miner]) {
        expect(miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, 0)).toBe(lastOffset(0));
        expect(miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, 1)).toBe(lastOffset(1));
      }
    }, 90_000);

    const { blocks, rejected } = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(envA));
    const counts = transactionCounts(blocks);
    // Exactly the produced transactions, each once: those without an id under the id of their position,
    // and each duplicated user id once although two messages carried it.
    const expected = [...plain.map(({ partition, offset }) => derivedTransactionId(topics.TOPIC_TRANSACTIONS, partition, offset)), 'dup-0', 'dup-5'];
    expect([...counts.keys()].sort()).toEqual(expected.sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    // Each partition is covered from 0 to its last offset, block after block, by its owner only.
    for (const partition of [0, 1]) {
      const ranges = sourceTiling(blocks, topics.TOPIC_TRANSACTIONS).get(partition) ?? [];
      expect(ranges[0]?.[0]).toBe(0);
      expect(ranges.at(-1)?.[1]).toBe(lastOffset(partition));
      ranges.slice(1).forEach(([first], i) => expect(first).toBe((ranges[i] as [number, number])[1] + 1));
    }
    for (const block of blocks.slice(1)) {
      const owner = block.sources.every((s) => s.partition === 0) ? 'racer-a' : 'racer-b';
      expect(block.miner).toBe(owner);
    }
    // Mined + orphaned = published; every orphan is a rejected block on the topic.
    const mined = a.miner.stats.mined + b.miner.stats.mined;
    const orphaned = a.miner.stats.orphaned + b.miner.stats.orphaned;
    expect(mined).toBe(blocks.length - 1);
    expect(orphaned).toBe(rejected.length);
    expect(rejected.every((r) => ['stale', 'fork', 'duplicate-transaction'].includes(r.reason))).toBe(true);
    expect((await metricValue(a.registry, 'chainlog_miner_blocks_orphaned_total')) + (await metricValue(b.registry, 'chainlog_miner_blocks_orphaned_total'))).toBe(orphaned);
    // The id both partitions carried: committed once, skipped (and counted) once by whoever came second.
    expect(a.miner.stats.duplicates + b.miner.stats.duplicates).toBe(2);
    // Both miners had work, so after mining the tip each let the other go first at least once (turn-taking).
    const yields = a.miner.stats.yields + b.miner.stats.yields;
    expect(yields).toBeGreaterThan(0);
    expect((await metricValue(a.registry, 'chainlog_miner_turns_yielded_total')) + (await metricValue(b.registry, 'chainlog_miner_turns_yielded_total'))).toBe(yields);
    console.info(`races: ${blocks.length - 1} canonical blocks, ${orphaned} lost races (${rejected.map((r) => r.reason).join(', ')}), ${yields} turns yielded`);
  });
});
