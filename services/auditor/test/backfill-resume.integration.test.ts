// A restarted auditor continues its back-fill where the last run stopped instead of replaying from genesis
// again (a back-fill that every restart sent back to genesis might never finish on a long chain), against a
// real broker. The first run's back-fill is held up on purpose: blocks 5..9 commit records of partition 1 of
// the transactions topic, which is written only after that run stopped, so its replay from genesis cannot
// get past block 4 (the live chain, continued from a checkpoint at block 9, needs partition 0 only).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCheckpointTopic, ensureTopics } from '@chainlog/core/kafka';
import { type Block, encodeBlock, type Transaction } from '@chainlog/core/protocol';
import { eventually, kafkaBrokers, testKafka, uniqueTopic } from '../../../test/support/kafka.js';
import { readConfig } from '../src/config.js';
import { ChainBuilder, minerA, PARAMS_ENV, topicTransaction } from './support/chain-builder.js';
import { publishCheckpoint } from './support/publish-checkpoint.js';
import { RunningAuditors } from './support/running-auditors.js';

const topics = { blockchain: uniqueTopic('blockchain'), transactions: uniqueTopic('transactions'), audit: uniqueTopic('audit'), checkpoints: uniqueTopic('checkpoints') };
const T0 = Date.now() - 60_000;
const CHECKPOINT_AT = 9;
/** Blocks 1..4 and 10..12 commit records of partition 0, blocks 5..9 of partition 1 (three each). */
const PARTITION_OF = (index: number): number => (index >= 5 && index <= CHECKPOINT_AT ? 1 : 0);
const BLOCKS = 12;
const RECORDS_PER_BLOCK = 3;

let kafka: Kafka;
let producer: Producer;
let blocks: Block[];
const records: Record<number, { offset: number; transaction: Transaction }[]> = { 0: [], 1: [] };
let dataDir: string;
const auditors = new RunningAuditors();

function config(): ReturnType<typeof readConfig> {
  return readConfig({
    ...PARAMS_ENV,
    REPLAY_WINDOW_MS: '600000',
    KAFKA_BROKERS: kafkaBrokers(),
    KAFKA_CLIENT_ID: 'chainlog-auditor-backfill-resume-test',
    TOPIC_BLOCKCHAIN: topics.blockchain,
    TOPIC_TRANSACTIONS: topics.transactions,
    TOPIC_AUDIT: topics.audit,
    TOPIC_CHECKPOINTS: topics.checkpoints,
    AUDIT_PUBLISH: 'false',
    DATA_DIR: dataDir,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
  });
}

function buildChain(): Block[] {
  const builder = new ChainBuilder();
  const next = { 0: 0, 1: 0 } as Record<number, number>;
  for (let index = 1; index <= BLOCKS; index++) {
    const partition = PARTITION_OF(index);
    const first = next[partition] as number;
    const transactions = Array.from({ length: RECORDS_PER_BLOCK }, (_, i) => {
      const offset = first + i;
      const transaction = topicTransaction(topics.transactions, partition, offset, { to: `acct-${offset % 3}`, amount: offset + 1 }, T0 + index * 10 + i);
      records[partition]?.push({ offset, transaction });
      return transaction;
    });
    next[partition] = first + RECORDS_PER_BLOCK;
    builder.next({
      transactions,
      sources: [{ topic: topics.transactions, partition, firstOffset: first, lastOffset: first + RECORDS_PER_BLOCK - 1 }],
      timestamp: T0 + 10_000 + index * 1000,
    });
  }
  return builder.blocks;
}

async function publishRecords(partition: number): Promise<void> {
  await producer.send({
    topic: topics.transactions,
    acks: -1,
    messages: (records[partition] ?? []).map(({ transaction }) => ({
      partition,
      key: transaction.from,
      value: JSON.stringify({ from: transaction.from, to: transaction.to, amount: transaction.amount }),
      timestamp: String(transaction.timestamp),
    })),
  });
}

function writeCheckpoint(): Promise<void> {
  return publishCheckpoint({
    kafka,
    params: config().consensus,
    blocks,
    at: CHECKPOINT_AT,
    blockchainTopic: topics.blockchain,
    checkpointTopic: topics.checkpoints,
    writer: 'miner-0',
    signer: minerA,
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chainlog-auditor-resume-'));
  kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { topic: topics.blockchain, partitions: 1 },
    { topic: topics.transactions, partitions: 2 },
  ]);
  await ensureCheckpointTopic(admin, topics.checkpoints);
  await admin.disconnect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  blocks = buildChain();
  await publishRecords(0);
  await producer.send({ topic: topics.blockchain, acks: -1, messages: blocks.map((block) => ({ value: encodeBlock(block) })) });
  await writeCheckpoint();
}, 120_000);

afterAll(async () => {
  await auditors.stopAll();
  await producer?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a restarted auditor', () => {
  it('continues its back-fill after the last block it indexed, not from genesis, and still matches the checkpoint', async () => {
    const first = await auditors.start(config());
    // Genesis and blocks 1..4 are back-filled; block 5 waits for partition 1.
    await eventually(async () => expect(await auditors.metric(first, 'chainlog_auditor_backfill_blocks_total')).toBe(5), 60_000);
    expect(first.state.indexProgress()).toMatchObject({ complete: false, contiguousHeight: 4, height: BLOCKS });
    await auditors.stop(first);

    await publishRecords(1);
    const second = await auditors.start(config());
    try {
      await eventually(() => expect(second.state.indexProgress()).toMatchObject({ complete: true, ledgerComplete: true, height: BLOCKS }), 60_000);
      // Blocks 5..9 only: from genesis it would have been 0..9 again.
      expect(await auditors.metric(second, 'chainlog_auditor_backfill_blocks_total')).toBe(CHECKPOINT_AT - 4);
      await eventually(async () => expect(await auditors.metric(second, 'chainlog_chain_verification_ratio')).toBe(1), 30_000);
      expect(await auditors.metric(second, 'chainlog_chain_verification_mismatches_total')).toBe(0);
      // Answers from both runs' parts of the back-fill and the live range.
      for (const index of [2, 7, 11]) {
        const id = blocks[index]?.transactions[1]?.id as string;
        expect(second.state.transactionStatus(id)).toMatchObject({ status: 'committed', blockIndex: index, position: 1 });
      }
      const balances = new Map<string, number>();
      for (const block of blocks) {
        for (const { from, to, amount } of block.transactions) {
          balances.set(from, (balances.get(from) ?? 0) - amount);
          balances.set(to, (balances.get(to) ?? 0) + amount);
        }
      }
      for (const [account, balance] of balances) expect(second.state.account(account, 0, 1)?.balance).toBe(balance);
    } finally {
      await auditors.stop(second);
    }
  }, 180_000);
});
