// The range-hijack attack of issue #19 against a real broker, in open and permissioned modes: a block
// whose source range for partition 0 ends at 2^53 - 1 (it claims every later message of the partition)
// is published at the tip, then ten transactions are acknowledged by the broker. Every reader must reject
// the block (bad-source-coverage) instead of accepting it, the miner must mine all ten, and the auditor
// must report the anomaly as critical and never call one of the ten `unknown`.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@chainlog/core/logging';
import { assembleBlock, derivedTransactionId, encodeBlock, searchNonce, sealBlock, signerFromSeed, type Block, type Signer } from '@chainlog/core/protocol';
import { createHash } from 'node:crypto';
import { readConfig } from '../services/auditor/src/config.js';
import { AuditorService } from '../services/auditor/src/service.js';
import { verifyTopic } from '@chainlog/core/verify';
import {
  ARTICLE_TRANSACTION,
  consensusOf,
  minerEnv,
  produce,
  startMiner,
  testTopics,
  type RunningMiner,
} from '../services/miner/test/support/miners.js';
import { eventually, testKafka, uniqueTopic } from './support/kafka.js';

const seed = createHash('sha256').update('issue 19 range hijack miner').digest();
const allowedKey: Signer = signerFromSeed(seed);

/** A block at the tip whose partition-0 range claims every offset from the chain's next one to 2^53 - 1. */
function hijackBlock(tip: Block, firstOffset: number, topic: string, difficulty: number, signer?: Signer): Block {
  const candidate = assembleBlock({
    previous: tip,
    transactions: [],
    sources: [{ topic, partition: 0, firstOffset, lastOffset: Number.MAX_SAFE_INTEGER }],
    miner: 'mallory',
    timestamp: Date.now(),
    difficulty,
    reward: 50,
    ...(signer === undefined ? {} : { minerPublicKey: signer.publicKey }),
  });
  const nonce = searchNonce(candidate.headerDigest, difficulty, 0, Number.MAX_SAFE_INTEGER) as number;
  return sealBlock(candidate, nonce, signer);
}

describe('source coverage on the real broker: the range-hijack block', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  for (const mode of ['open', 'permissioned'] as const) {
    it(`is rejected with its reason in ${mode} mode, and the ten transactions after it are all mined`, async () => {
      const topics = testTopics(`hijack-${mode}`);
      const env = minerEnv(topics, {
        CUT_AT_PENDING_TRANSACTIONS: '50',
        MAX_BLOCK_WAIT_MS: '200',
        ...(mode === 'permissioned' ? { MINER_PRIVATE_KEY: seed.toString('hex'), ALLOWED_MINER_KEYS: allowedKey.publicKey } : {}),
      });
      const running: RunningMiner = await startMiner(env);
      stops.push(running.stop);
      const { miner } = running;
      const auditTopic = uniqueTopic(`hijack-${mode}-audit`);
      const auditor = new AuditorService(
        readConfig({
          ...env,
          TOPIC_AUDIT: auditTopic,
          KAFKA_CLIENT_ID: 'chainlog-auditor-hijack',
          LOG_LEVEL: 'silent',
        }),
        createLogger('auditor', 'silent'),
        { topicPollIntervalMs: 200 },
      );
      await auditor.start();
      stops.push(() => auditor.stop());

      // One honest block first, so the hijack extends a real tip and starts at the right offset.
      await produce(topics.TOPIC_TRANSACTIONS, [{ partition: 0, value: ARTICLE_TRANSACTION, key: 'alice' }]);
      await eventually(() => expect(miner.chain.lastSourceOffset(topics.TOPIC_TRANSACTIONS, 0)).toBe(0), 30_000);
      const tip = miner.chain.tip?.block as Block;
      const forged = hijackBlock(tip, 1, topics.TOPIC_TRANSACTIONS, 8, mode === 'permissioned' ? allowedKey : undefined);
      const [forgedAt] = await produce(topics.TOPIC_BLOCKCHAIN, [{ partition: 0, value: encodeBlock(forged).toString('utf8'), key: String(forged.index) }]);

      // Ten acknowledged transactions on partition 1 only: partition 0 stays quiet, so deciding the
      // block needs the miner's probe record there.
      const acknowledged = await produce(
        topics.TOPIC_TRANSACTIONS,
        Array.from({ length: 10 }, (_, i) => ({ partition: 1, value: JSON.stringify({ from: `payer-${i}`, to: 'bob', amount: i + 1 }), key: `payer-${i}` })),
      );
      const ids = acknowledged.map(({ partition, offset }) => derivedTransactionId(topics.TOPIC_TRANSACTIONS, partition, offset));
      await eventually(() => expect(ids.filter((id) => !miner.chain.hasTransaction(id))).toEqual([]), 45_000);
      const heightWithAll = miner.chain.height;

      // Every reader: the verify command's ChainFollower, reading both topics from the start.
      const report = await verifyTopic({
        kafka: testKafka(),
        topic: topics.TOPIC_BLOCKCHAIN,
        transactionsTopic: topics.TOPIC_TRANSACTIONS,
        params: consensusOf(env),
        logger: createLogger('verify', 'silent'),
        timeoutMs: 60_000,
      });
      const rejection = report.rejections.find((r) => r.position === forgedAt?.offset);
      expect(rejection?.reason).toBe('bad-source-coverage');
      // Verify reads up to the end it saw at its start, so it has at least the block that committed the ten.
      expect(report.height).toBeGreaterThanOrEqual(heightWithAll);
      expect(report.rejections.filter((r) => r.reason !== 'stale' && r.reason !== 'fork')).toEqual([rejection]);

      // The auditor: the block rejected for the same reason, reported as a critical anomaly, no id unknown.
      await auditor.caughtUpNow(30_000);
      await eventually(() => {
        const statuses = ids.map((id) => auditor.state.transactionStatus(id)?.status);
        expect(statuses).toEqual(ids.map(() => 'committed'));
      }, 30_000);
      expect(auditor.state.chain.height).toBeGreaterThanOrEqual(heightWithAll);
      const metrics = await auditor.registry.metrics();
      // Reported as critical: rejected for bad-source-coverage (kind="mismatch"), and the audit report (the explorer's
      // audit page) lists it. If the auditor read the block before the miner's probe record was on partition 0, the
      // block waited first, and that wait was reported as a past-end anomaly too; a loaded auditor may read both at
      // once and decide at once (a contradiction in the range's prefix is final), without waiting.
      expect(metrics).toMatch(/chainlog_auditor_blocks_rejected_total\{reason="bad-source-coverage"[^}]*\} 1/);
      expect(metrics).toMatch(/chainlog_auditor_coverage_anomalies_total\{kind="mismatch"[^}]*\} 1/);
      const audit = auditor.state.auditReport();
      expect(audit.rejected.recent).toContainEqual(expect.objectContaining({ offset: forgedAt?.offset, reason: 'bad-source-coverage', claimedIndex: forged.index }));
      const waited = metrics.match(/chainlog_auditor_coverage_anomalies_total\{kind="past-end"[^}]*\} (\d+)/)?.[1];
      expect(audit.anomalies.recent.map(({ offset, claimedIndex }) => ({ offset, claimedIndex }))).toEqual(
        Number(waited) > 0 ? [{ offset: forgedAt?.offset, claimedIndex: forged.index }] : [],
      );
    });
  }
});
