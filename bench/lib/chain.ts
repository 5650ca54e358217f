// A chain for the benchmarks, built with the protocol and published straight to the topics (not through
// ingest or miners): difficulty 0 (nonce 0 always qualifies), unsigned, `perBlock` ingest-shaped transactions
// per block with UUID ids. Transaction n is offset n of partition 0 of the transactions topic, in full form,
// so its stored form is the message itself and every block passes source coverage. Timestamps: transaction n
// at base + n ms, its block at the next multiple of perBlock: a replay window of more than perBlock ms holds.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { CheckpointWriter, ensureCheckpointTopic } from '@chainlog/core/kafka';
import {
  assembleBlock,
  type Block,
  canonicalTransactionJson,
  type ChainState,
  type ConsensusParams,
  createCheckpoint,
  encodeBlock,
  GENESIS_BLOCK,
  type RecentId,
  sealBlock,
  type Transaction,
} from '@chainlog/core/protocol';

export interface ChainSpec {
  readonly topic: string;
  readonly transactionsTopic: string;
  readonly total: number;
  readonly perBlock: number;
  readonly accounts: number;
  readonly blockReward: number;
  /** Protocol version of the blocks (default: the current one); 1 for a --before checkout that predates versions. */
  readonly version?: number;
  /** Keep the state a chain with this replay window has at the tip (BuiltChain.state). */
  readonly windowMs?: number;
}

export interface BuiltChain {
  readonly blocks: number;
  readonly bytes: number;
  readonly seconds: number;
  /** With spec.windowMs: the state at the tip (the tip is the message at offset blocks - 1). */
  readonly state?: ChainState;
}

export const CHAIN_BASE_TIMESTAMP = 1_700_000_000_000;

export async function buildAndPublish(kafka: Kafka, spec: ChainSpec, onProgress?: (transactions: number) => void): Promise<BuiltChain> {
  const { topic, transactionsTopic, total, perBlock, accounts } = spec;
  const started = performance.now();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  let previous: Block = GENESIS_BLOCK;
  let blocks = 0;
  let bytes = 0;
  let pending: { value: Buffer; key: string }[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    await producer.send({ topic, acks: -1, messages: pending });
    pending = [];
    pendingBytes = 0;
  };
  const add = async (block: Block): Promise<void> => {
    const value = encodeBlock(block);
    bytes += value.length;
    blocks++;
    pending.push({ key: String(block.index), value });
    pendingBytes += value.length;
    if (pendingBytes > 4 * 2 ** 20) await flush();
  };
  await add(GENESIS_BLOCK);
  const base = CHAIN_BASE_TIMESTAMP;
  // The last windowMs transactions (one per ms): the only ones that can be in the tip's window.
  let recent: RecentId[] = [];
  for (let offset = 0; offset < total; offset += perBlock) {
    const count = Math.min(perBlock, total - offset);
    const transactions: Transaction[] = Array.from({ length: count }, (_, i) => {
      const n = offset + i;
      return { id: randomUUID(), from: `account-${n % accounts}`, to: `account-${(n * 7 + 1) % accounts}`, amount: 1 + (n % 1000), timestamp: base + n };
    });
    await producer.send({
      topic: transactionsTopic,
      acks: -1,
      // As ingest writes them: the canonical JSON of the stored form.
      messages: transactions.map((transaction) => ({ value: canonicalTransactionJson(transaction), partition: 0, timestamp: String(base) })),
    });
    const candidate = assembleBlock({
      previous,
      transactions,
      sources: [{ topic: transactionsTopic, partition: 0, firstOffset: offset, lastOffset: offset + count - 1 }],
      miner: 'bench-miner',
      timestamp: base + offset + count,
      difficulty: 0,
      reward: spec.blockReward,
      ...(spec.version === undefined ? {} : { version: spec.version }),
    });
    previous = sealBlock(candidate, 0);
    await add(previous);
    if (spec.windowMs !== undefined) {
      recent.push(...transactions.map(({ id, timestamp }) => ({ id, timestamp })));
      if (recent.length > 2 * spec.windowMs) recent = recent.slice(-spec.windowMs - perBlock);
    }
    onProgress?.(offset + count);
  }
  await flush();
  await producer.disconnect();
  const seconds = (performance.now() - started) / 1000;
  if (spec.windowMs === undefined) return { blocks, bytes, seconds };
  const windowMs = spec.windowMs;
  const state: ChainState = {
    tip: previous,
    transactionCount: total + blocks - 1, // every user transaction and one coinbase per block after genesis
    sourceOffsets: total === 0 ? [] : [{ topic: transactionsTopic, partition: 0, lastOffset: total - 1 }],
    recentIds: recent.filter(({ timestamp }) => timestamp >= previous.timestamp - windowMs).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
  return { blocks, bytes, seconds, state };
}

/**
 * The checkpoint a miner would write at the tip of a built chain, from the generator's state (unsigned: the chain is
 * open), so services start from it instead of replaying. `params` must be exactly what the services read (the
 * checkpoint binds them by hash).
 */
export async function publishGeneratedCheckpoint(kafka: Kafka, topic: string, blockchainTopic: string, built: BuiltChain, params: ConsensusParams): Promise<void> {
  const state = built.state;
  if (state === undefined) throw new Error('the generator kept no state (build with windowMs)');
  const checkpoint = createCheckpoint(state, params, { blockchainTopic, tipOffset: built.blocks - 1, tipIndex: state.tip.index, tipHash: state.tip.hash, writer: 'bench-generator', writtenAt: Date.now() });
  if (checkpoint === undefined) throw new Error('no checkpoint');
  const admin = kafka.admin();
  await admin.connect();
  await ensureCheckpointTopic(admin, topic, 1);
  await admin.disconnect();
  const writer = new CheckpointWriter(kafka, topic);
  await writer.write(checkpoint);
  await writer.stop();
}
