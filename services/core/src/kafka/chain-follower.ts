// Follows the blockchain topic from its first offset and applies every message, in offset order, to a
// Chain (the protocol's fork choice). Miners, the auditor and the verify command all read the ledger
// through this one path, so every reader computes the same canonical chain.
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../logging/logger.js';
import { encodeBlock, GENESIS_BLOCK, type ApplyResult, type Block, type Chain, type Evaluation, type RefusedRecord, type RejectionReason } from '../protocol/index.js';
import type { SourceThread } from './source-feed.js';
import { SourceReader } from './source-reader.js';
import { TopicReader } from './topic-reader.js';

/** A block the follower cannot decide yet: it claims offsets of the transactions topic not read yet. */
export interface SourceWait {
  readonly offset: number;
  readonly claimedIndex: number;
  readonly claimedMiner: string;
  readonly partition: number;
  /** The offset through which the partition must be read. */
  readonly through: number;
  readonly detail: string;
  /** The reader has read the partition to its end: the block claims offsets past it (never honest). */
  readonly pastEnd: boolean;
  readonly waitedMs: number;
}

const GENESIS_BYTES = encodeBlock(GENESIS_BLOCK);

export interface BlockRejection {
  offset: number;
  reason: RejectionReason;
  detail: string;
  claimedIndex?: number;
  claimedMiner?: string;
  /**
   * The message is byte for byte the genesis block again, after the chain already has it: miners of a fresh
   * ledger racing to initialise it. Rejected as stale like any block below the tip, but no fork and no forgery.
   */
  duplicateGenesis?: boolean;
}

/**
 * What became of the message at one offset: the block joined the chain (its index and hash), or why it did
 * not. Not the block itself: the follower remembers the last REMEMBERED_VERDICTS verdicts, and as many parsed
 * blocks were most of a replay's memory (hundreds of MiB with 2000-transaction blocks).
 */
export type BlockVerdict =
  | { readonly accepted: true; readonly index: number; readonly hash: string }
  | { readonly accepted: false; readonly rejection: BlockRejection };

export interface ChainFollowerOptions {
  kafka: Kafka;
  topic: string;
  chain: Chain;
  logger: Logger;
  /**
   * Called for each block that joined the chain, before later messages are applied. `bytes` is the message
   * it was decoded from: exactly encodeBlock(block), since only the canonical encoding is accepted. `refused`:
   * the records source coverage found it refusing, with their ids (empty for a block not checked against records).
   */
  onAccepted?: (block: Block, offset: number, bytes: Uint8Array, refused: readonly RefusedRecord[]) => void | Promise<void>;
  /** Called for each message that was rejected: forged, corrupt, stale or a lost race. */
  onRejected?: (rejection: BlockRejection) => void | Promise<void>;
  /** Prefix of the throw-away consumer group; offsets are never committed. */
  groupIdPrefix?: string;
  /**
   * The transactions topic, read for source coverage (docs/protocol.md §3.7). Every reader of the live
   * system names it; without it coverage is not checked (offline tools that say so).
   */
  transactionsTopic?: string;
  /** Called about every second while a block waits for records of the transactions topic. */
  onSourceWait?: (wait: SourceWait) => void | Promise<void>;
  /** Which thread reads the transactions topic (source-feed.ts; default 'auto'). */
  sourceThread?: SourceThread;
}

/** How long one wait for source records lasts before the follower heartbeats and reports again. */
const SOURCE_WAIT_SLICE_MS = 1000;

/** A block this process checked against the chain and is publishing: see expectOwnBlock. */
interface OwnBlock {
  readonly bytes: Buffer;
  readonly block: Block;
  readonly checkedAtVersion: number;
}

interface Waiter {
  offset: number;
  resolve: (verdict: BlockVerdict | undefined) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** How many of the latest verdicts waitUntilApplied can still tell (a publisher asks right after its send). */
const REMEMBERED_VERDICTS = 1024;

export class ChainFollower {
  readonly chain: Chain;
  #reader: TopicReader | undefined;
  // One long-lived admin: miners ask for the topic's end before every block.
  #admin: Admin | undefined;
  #appliedOffset = -1;
  #knownEndOffset = 0;
  #replayEndOffset = 0;
  #waiters: Waiter[] = [];
  readonly #verdicts = new Map<number, BlockVerdict>();
  #failure: Error | undefined;
  #ownBlock: OwnBlock | undefined;
  #stopped = false;
  #sources: SourceReader | undefined;
  #onDemand: readonly number[] = [];

  readonly #options: ChainFollowerOptions;

  constructor(options: ChainFollowerOptions) {
    this.#options = options;
    this.chain = options.chain;
  }

  /** The transactions topic's reader, starting where the chain's source ranges continue. */
  #sourceReader(): SourceReader | undefined {
    const { kafka, transactionsTopic, logger } = this.#options;
    if (transactionsTopic === undefined) return undefined;
    const startOffsets = new Map(
      this.chain.sourceOffsets().flatMap(({ topic, partition, lastOffset }) => (topic === transactionsTopic ? [[partition, lastOffset + 1] as const] : [])),
    );
    return new SourceReader({
      kafka,
      topic: transactionsTopic,
      logger: logger.child({ component: 'source-reader' }),
      groupIdPrefix: `${this.#options.groupIdPrefix ?? 'chainlog-chain-follower'}-sources`,
      startOffsets,
      ...(this.#options.sourceThread === undefined ? {} : { thread: this.#options.sourceThread }),
      // Without its source records no block can be decided: the follower fails with it (services then stop).
      onFailure: (error) => this.#fail(error),
    });
  }

  /** Offset of the last message applied; -1 before the first. */
  get appliedOffset(): number {
    return this.#appliedOffset;
  }

  /** True once every message up to the end last seen on the topic has been applied. */
  get caughtUp(): boolean {
    return this.#failure === undefined && this.#appliedOffset + 1 >= this.#knownEndOffset && this.#reader !== undefined;
  }

  /** Whether the message at this offset was already on the topic when the follower started (history, not news). */
  isReplay(offset: number): boolean {
    return offset < this.#replayEndOffset;
  }

  /** Set when the consumer crashed for good; the service should then report not ready. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Starts following. `fromOffset`: the chain was restored from a checkpoint whose tip is the message before
   * this offset (Chain.continueFrom), so reading starts here, and the transactions topic after the offsets
   * the restored chain consumed; otherwise from offset 0 on an empty chain.
   */
  async start(fromOffset = 0): Promise<void> {
    const { kafka, topic, logger } = this.#options;
    if (fromOffset > 0 && this.chain.tip === undefined) throw new Error('a chain follower starts past offset 0 only on a restored chain');
    this.#appliedOffset = fromOffset - 1;
    this.#sources = this.#sourceReader();
    this.#sources?.readOnDemand(this.#onDemand);
    this.#knownEndOffset = await this.endOffset();
    this.#replayEndOffset = this.#knownEndOffset;
    const reader = new TopicReader({
      kafka,
      topic,
      logger,
      name: 'chain follower',
      ...(fromOffset > 0 ? { startOffsets: new Map([[0, fromOffset]]) } : {}),
      groupIdPrefix: this.#options.groupIdPrefix ?? 'chainlog-chain-follower',
      onBatch: (_partition, highWatermark) => {
        this.#knownEndOffset = Math.max(this.#knownEndOffset, highWatermark);
      },
      onMessage: (message, heartbeat) => this.#applyMessage(message.offset, message.value, heartbeat),
      onFailure: (error) => this.#fail(error),
    });
    await this.#sources?.start();
    await reader.start();
    this.#reader = reader;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#rejectWaiters(error);
  }

  async #applyMessage(offset: number, value: Buffer, heartbeat: () => Promise<void>): Promise<void> {
    const own = this.#ownBlock;
    const isOwn = own !== undefined && own.bytes.equals(value);
    if (isOwn) this.#ownBlock = undefined;
    const result =
      isOwn && own.checkedAtVersion === this.chain.version
        ? this.chain.applyChecked(own.block, own.checkedAtVersion)
        : await this.#decide(offset, value, heartbeat);
    if (result === undefined) return; // stopped while waiting for source records
    if (result.accepted) this.#discardSources(result.block);
    let verdict: BlockVerdict;
    if (result.accepted) {
      verdict = { accepted: true, index: result.block.index, hash: result.block.hash };
      await this.#options.onAccepted?.(result.block, offset, value, result.refused ?? []);
    } else {
      const { reason, detail, claimedIndex, claimedMiner } = result;
      const rejection: BlockRejection = { offset, reason, detail };
      if (claimedIndex !== undefined) rejection.claimedIndex = claimedIndex;
      if (claimedMiner !== undefined) rejection.claimedMiner = claimedMiner;
      if (reason === 'stale' && claimedIndex === 0 && GENESIS_BYTES.equals(value)) rejection.duplicateGenesis = true;
      verdict = { accepted: false, rejection };
      await this.#options.onRejected?.(rejection);
    }
    this.#verdicts.set(offset, verdict);
    this.#verdicts.delete(offset - REMEMBERED_VERDICTS);
    this.#appliedOffset = offset;
    this.#resolveWaiters();
  }

  /** The verdict on a block, waiting as long as it claims source records this reader has not read. */
  async #decide(offset: number, value: Uint8Array, heartbeat: () => Promise<void>): Promise<ApplyResult | undefined> {
    const sources = this.#sources;
    if (sources === undefined) return this.chain.apply(value);
    const started = performance.now();
    for (;;) {
      const outcome: Evaluation = this.chain.evaluate(value, sources);
      if (outcome.status === 'decided') {
        const { result } = outcome;
        if (!result.accepted) return result;
        const applied = this.chain.applyChecked(result.block, this.chain.version);
        // The evaluation's findings (the records it refused) go with the block it committed.
        return applied.accepted && result.refused !== undefined ? { ...applied, refused: result.refused } : applied;
      }
      if (this.#stopped) return undefined;
      await this.#options.onSourceWait?.({
        offset,
        claimedIndex: outcome.claimedIndex,
        claimedMiner: outcome.claimedMiner,
        partition: outcome.partition,
        through: outcome.offset,
        detail: outcome.detail,
        pastEnd: sources.atEnd(outcome.partition),
        waitedMs: performance.now() - started,
      });
      await sources.waitFor(outcome.partition, outcome.offset, SOURCE_WAIT_SLICE_MS);
      if (this.#stopped) return undefined;
      if (sources.atEnd(outcome.partition)) await sources.refreshEnds();
      await heartbeat();
    }
  }

  #discardSources(block: Block): void {
    const sources = this.#sources;
    if (sources === undefined) return;
    for (const { topic, partition, lastOffset } of block.sources) {
      if (topic === sources.topic) sources.discardThrough(partition, lastOffset);
    }
  }

  /**
   * Transactions partitions whose records are fetched only while a block waits for them (SourceReader.readOnDemand):
   * a miner's own partitions. Its own blocks come back through expectOwnBlock and need none of them, so reading
   * them ahead read the miner's partitions a second time for nothing; every other block claiming them is still
   * checked against the records in full, once they are fetched.
   */
  readSourcesOnDemand(partitions: readonly number[]): void {
    this.#onDemand = [...partitions];
    this.#sources?.readOnDemand(this.#onDemand);
  }

  /**
   * Announces a block this process has checked (Chain.check at `checkedAtVersion`) and is about to publish
   * as `bytes`: when a message with exactly these bytes comes back, it is applied with Chain.applyChecked,
   * so a miner does not validate its own block twice. Every other reader validates it in full.
   */
  expectOwnBlock(bytes: Buffer, block: Block, checkedAtVersion: number): void {
    this.#ownBlock = { bytes, block, checkedAtVersion };
  }

  /** The topic's current end (high watermark): the offset the next block will get. */
  async endOffset(): Promise<number> {
    if (this.#admin === undefined) {
      const admin = this.#options.kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    const offsets = await this.#admin.fetchTopicOffsets(this.#options.topic);
    const end = Math.max(0, ...offsets.map((partition) => Number(partition.high)));
    this.#knownEndOffset = Math.max(this.#knownEndOffset, end);
    return end;
  }

  /** Resolves once everything published before this call has been applied. */
  async catchUp(timeoutMs = 60_000): Promise<void> {
    const end = await this.endOffset();
    if (end > 0) await this.waitUntilApplied(end - 1, timeoutMs);
  }

  /**
   * Resolves once the message at `offset` has been applied to the chain, with its verdict: accepted, or
   * rejected and why (a publisher learns whether its block became canonical). Undefined only for an offset
   * applied more than REMEMBERED_VERDICTS messages ago.
   */
  waitUntilApplied(offset: number, timeoutMs = 60_000): Promise<BlockVerdict | undefined> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (offset <= this.#appliedOffset) return Promise.resolve(this.#verdicts.get(offset));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        offset,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
          reject(new Error(`blockchain offset ${offset} not applied within ${timeoutMs} ms (applied up to ${this.#appliedOffset})`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  #resolveWaiters(): void {
    const due = this.#waiters.filter((waiter) => waiter.offset <= this.#appliedOffset);
    if (due.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => waiter.offset > this.#appliedOffset);
    for (const waiter of due) {
      clearTimeout(waiter.timer);
      waiter.resolve(this.#verdicts.get(waiter.offset));
    }
  }

  #rejectWaiters(error: Error): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters = [];
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#rejectWaiters(new Error('chain follower stopped'));
    const reader = this.#reader;
    this.#reader = undefined;
    // Both at once: the source reader's stop wakes a block waiting for records right away (its handler then
    // returns), and the chain's consumer stops before it starts another fetch. Stopped after the source reader
    // (whose consumer takes a while to leave), it had started one by then and sat in its long poll (kafkajs'
    // maxWaitTime, 5 s) for nothing: every stop after a busy moment took 5 s longer than before source coverage.
    await Promise.all([this.#sources?.stop(), reader?.stop()]);
    await this.#admin?.disconnect();
    this.#admin = undefined;
  }
}
