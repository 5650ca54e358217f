// A miner on a chain with a replay window writes checkpoints; a restarted miner continues from the newest one
// that verifies (a forged one is refused and counted), replays nothing from genesis, and keeps mining: every
// message committed exactly once, a replayed transaction refused, and the restored state equal to a full replay,
// which the miner itself also recomputes in the background.
import { afterEach, describe, expect, it } from 'vitest';
import { createCheckpoint } from '@chainlog/core/protocol';
import { eventually, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { consensusOf, metricValue, minerEnv, produce, rebuildChain, startMiner, testTopics, transactionCounts, type RunningMiner } from './support/miners.js';

describe('miner checkpoints', () => {
  const running: RunningMiner[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((miner) => miner.stop()));
  });

  async function metric(miner: RunningMiner, name: string, label?: Record<string, string>): Promise<number> {
    if (label === undefined) return metricValue(miner.registry, name);
    const found = (await miner.registry.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (found?.values ?? []) as { value: number; labels: Record<string, string> }[];
    return values.filter((v) => Object.entries(label).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
  }

  it('restores from the newest verified checkpoint, refuses a forged one, and loses or doubles nothing', { timeout: 240_000 }, async () => {
    const topics = testTopics('ckpt');
    const checkpointTopic = uniqueTopic('ckpt-checkpoints');
    const env = minerEnv(topics, {
      DIFFICULTY: '4',
      CUT_AT_PENDING_TRANSACTIONS: '3',
      // Small blocks, so that 12 transactions make several blocks and checkpoints (CHECKPOINT_EVERY_BLOCKS).
      TAKE_UP_TO_TRANSACTIONS: '3',
      MAX_BLOCK_WAIT_MS: '200',
      REPLAY_WINDOW_MS: '600000',
      TOPIC_CHECKPOINTS: checkpointTopic,
      CHECKPOINT_EVERY_BLOCKS: '2',
      CHECKPOINT_EVERY_TRANSACTIONS: '0',
    });
    const consensus = consensusOf(env);
    const now = Date.now();
    const payment = (i: number): string => JSON.stringify({ id: `pay-${i}`, from: `user-${i % 3}`, to: 'shop', amount: 1 + i, timestamp: now + i });
    const first = await startMiner(env);
    running.push(first);
    await produce(topics.TOPIC_TRANSACTIONS, Array.from({ length: 12 }, (_, i) => ({ partition: i % 2, value: payment(i) })));
    await eventually(async () => {
      expect(transactionCounts((await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensus)).blocks).size).toBe(12);
      expect(await metric(first, 'chainlog_checkpoints_written_total')).toBeGreaterThanOrEqual(1);
    }, 90_000);
    expect(await metric(first, 'chainlog_checkpoint_restores_total', { outcome: 'none' })).toBe(1);
    await first.stop();
    running.splice(0);

    // A forged checkpoint claiming a newer tip (not on the chain) and a garbage manifest, both tried first.
    const stopped = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensus);
    const state = stopped.chain.state();
    if (state === undefined) throw new Error('no chain state');
    const forgedTip = { ...state.tip, index: state.tip.index + 100 };
    const forged = createCheckpoint({ ...state, tip: forgedTip }, consensus, {
      blockchainTopic: topics.TOPIC_BLOCKCHAIN,
      tipOffset: 999_999,
      tipIndex: forgedTip.index,
      tipHash: forgedTip.hash,
      writer: 'forger',
      writtenAt: now,
    });
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic: checkpointTopic,
      acks: -1,
      messages: [
        ...(forged?.parts ?? []).map((value, i) => ({ key: `forger/${forgedTip.index}/${i}`, value })),
        { key: 'forger', value: forged?.manifest ?? null },
        { key: 'garbage', value: '{"format":1,"tipIndex":1000000}' },
      ],
    });
    await producer.disconnect();

    // While it is down: new payments and a replay of a committed one (same id and timestamp).
    await produce(topics.TOPIC_TRANSACTIONS, [...Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, value: payment(100 + i) })), { partition: 1, value: payment(3) }]);
    const second = await startMiner(env);
    running.push(second);
    expect(await metric(second, 'chainlog_checkpoint_restores_total', { outcome: 'restored' })).toBe(1);
    expect(await metric(second, 'chainlog_checkpoint_rejected_total', { problem: 'not-on-chain' })).toBe(1);
    expect(await metric(second, 'chainlog_checkpoint_rejected_total', { problem: 'malformed' })).toBe(1);
    expect(second.miner.chain.height).toBeGreaterThanOrEqual(2);
    // Full verification from genesis in the background: the state up to the checkpoint's tip is recomputed and matches.
    expect(await second.miner.verification).toBe('matched');
    expect(await metric(second, 'chainlog_chain_verification_ratio')).toBe(1);
    expect(await metric(second, 'chainlog_chain_verification_mismatches_total')).toBe(0);

    const final = await eventually(async () => {
      const rebuilt = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensus);
      expect(transactionCounts(rebuilt.blocks).size).toBe(18);
      return rebuilt;
    }, 90_000);
    // Exactly once each; the replayed pay-3 was skipped as a duplicate, not committed again.
    expect([...transactionCounts(final.blocks).values()].every((count) => count === 1)).toBe(true);
    expect(final.blocks.flatMap((block) => block.sources.flatMap((source) => source.skipped ?? [])).map((skip) => skip.reason)).toContain('duplicate');
    await eventually(async () => {
      const rebuilt = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensus);
      expect(second.miner.chain.state()).toEqual(rebuilt.chain.state());
      expect(second.miner.chain.transactionCount).toBe(rebuilt.chain.transactionCount);
    }, 30_000);
  });
});
