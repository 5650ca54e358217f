// The replay window's liveness (issue #21): acknowledged transactions must not age out of the window.
//  - A miner that finds a backlog already older than half the window (it was down) drains it in a few blocks
//    (cut at the threshold, take up to the take limit) and no transaction is skipped `out-of-window`. Before,
//    a block took at most the cut threshold (3): a thousand blocks for this backlog, long past the window.
//  - Meanwhile ingest refuses what the window would likely drop: a client timestamp too far from its clock
//    (400 timestamp-out-of-window), and any new transaction for a partition whose oldest unmined record is older
//    than MINING_BACKLOG_LIMIT_MS (503 mining-backlog with Retry-After), learnt from Kafka alone (the miners'
//    committed group offsets and the records' timestamps). Once the miner caught up and committed, it accepts again.
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, testKafka, uniqueTopic } from './support/kafka.js';
import { canonicalTransactionJson } from '@chainlog/core/protocol';
import { consensusOf, minerEnv, rebuildChain, startMiner, testTopics, transactionCounts, type RunningMiner } from '../services/miner/test/support/miners.js';
import { post, startIngest, type RunningIngest } from '../services/ingest/test/helpers.js';

// A backlog that the old policy (a block took at most the cut threshold, 3) needs 3000 block cycles for: far more
// than the ~35 s of window it has left; with the take limit (1000) it is 9 blocks.
const WINDOW_MS = 120_000;
const BACKLOG = 9000;

describe('a backlog older than half the replay window', () => {
  let ingest: RunningIngest | undefined;
  let miner: RunningMiner | undefined;
  afterAll(async () => {
    await miner?.stop();
    await ingest?.stop();
  });

  it('is refused new work by ingest, then drained by the miner without any out-of-window skip', async () => {
    const topics = testTopics('window-backlog');
    const checkpoints = uniqueTopic('window-backlog-checkpoints');
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [topics.TOPIC_TRANSACTIONS, topics.TOPIC_BLOCKCHAIN, topics.TOPIC_DEAD_LETTER].map((topic) => ({ topic, numPartitions: 1 })),
      });

      // What miners that went down left behind: acknowledged transactions, their records and client timestamps
      // now 0.7 W old, and the offset they had committed (0: nothing mined yet).
      const then = Date.now() - Math.round(0.7 * WINDOW_MS);
      const backlog = Array.from({ length: BACKLOG }, (_, i) => ({ id: `backlog-${i}`, from: `alice-${i % 7}`, to: 'bob', amount: 1 + (i % 5), timestamp: then }));
      await produceAt(topics.TOPIC_TRANSACTIONS, backlog, then);
      await admin.setOffsets({ groupId: topics.MINER_GROUP_ID, topic: topics.TOPIC_TRANSACTIONS, partitions: [{ partition: 0, offset: '0' }] });

      ingest = await startIngest({ TOPIC_TRANSACTIONS: topics.TOPIC_TRANSACTIONS, REPLAY_WINDOW_MS: String(WINDOW_MS), MINER_GROUP_ID: topics.MINER_GROUP_ID });
      const url = ingest.url;
      await eventually(async () => expect((await fetch(`${url}/readyz`)).status).toBe(200), 30_000, 200);

      // A client timestamp more than W/4 from ingest's clock, either way: 400, naming the field and the problem.
      for (const offBy of [-0.3 * WINDOW_MS, 0.3 * WINDOW_MS]) {
        const reply = await post(url, { id: `skewed-${offBy}`, from: 'carol', to: 'dave', amount: 1, timestamp: Math.round(Date.now() + offBy) });
        expect(reply.status).toBe(400);
        expect(reply.body.error).toMatchObject({ code: 'timestamp-out-of-window', field: 'timestamp' });
        expect(reply.body.error.message).toMatch(/replay window/);
      }

      // New work behind the backlog: 503 mining-backlog with Retry-After, nothing written, counted.
      const refused = await eventually(async () => {
        const reply = await post(url, { id: 'fresh-0', from: 'carol', to: 'dave', amount: 1, timestamp: Date.now() });
        expect(reply.status).toBe(503);
        return reply;
      }, 30_000, 250);
      expect(refused.body.error).toMatchObject({ code: 'mining-backlog', partitions: [0] });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/chainlog_ingest_transactions_rejected_total\{reason="mining-backlog"[^}]*\} [1-9]/);
      expect(metrics).toMatch(/chainlog_ingest_backlogged_partitions\{[^}]*\} 1\n/);
      expect((await admin.fetchTopicOffsets(topics.TOPIC_TRANSACTIONS))[0]?.high).toBe(String(BACKLOG));

      // The miner comes back with the default cut threshold (3) and drains the backlog.
      const env = minerEnv(topics, { REPLAY_WINDOW_MS: String(WINDOW_MS), TOPIC_CHECKPOINTS: checkpoints, MAX_BLOCK_WAIT_MS: '100', DIFFICULTY: '4' });
      miner = await startMiner(env);
      const running = miner;
      await eventually(() => expect(running.miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, 0)).toBe(BACKLOG - 1), 60_000, 200);

      const { blocks } = await rebuildChain(topics.TOPIC_BLOCKCHAIN, consensusOf(env));
      const skipped = blocks.flatMap((block) => block.sources.flatMap((source) => source.skipped ?? []));
      expect(skipped).toEqual([]);
      const counts = transactionCounts(blocks);
      expect(backlog.filter(({ id }) => counts.get(id) !== 1)).toEqual([]);
      // A few blocks, not a thousand: each took up to TAKE_UP_TO_TRANSACTIONS (1000).
      expect(blocks.length - 1).toBeLessThanOrEqual(Math.ceil(BACKLOG / 1000) + 2);

      // The miner committed how far the chain covers the partition: ingest accepts again, and it is mined.
      const accepted = await eventually(async () => {
        const reply = await post(url, { id: 'fresh-1', from: 'carol', to: 'dave', amount: 1, timestamp: Date.now() });
        expect(reply.status).toBe(202);
        return reply;
      }, 30_000, 250);
      expect(accepted.body).toMatchObject({ id: 'fresh-1', partition: 0, offset: BACKLOG });
      await eventually(() => expect(running.miner.chain.hasTransaction('fresh-1')).toBe(true), 30_000, 200);
    } finally {
      await admin.disconnect();
    }
  }, 180_000);
});

/** Produces the transactions with the given record timestamp (as if ingest had acknowledged them then). */
async function produceAt(topic: string, transactions: readonly Parameters<typeof canonicalTransactionJson>[0][], timestamp: number): Promise<void> {
  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: transactions.map((transaction) => ({ partition: 0, value: canonicalTransactionJson(transaction), timestamp: String(timestamp) })) });
  } finally {
    await producer.disconnect();
  }
}
