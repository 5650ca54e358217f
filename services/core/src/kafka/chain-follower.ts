// Follows the blockchain topic from its first offset and applies every message, in offset order, to a
// Chain (the protocol's fork choice). Miners, the auditor and the verify command all read the ledger
// through this one path, so every reader computes the same canonical chain.
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../logging/logger.js';
import { encodeBlock, GENESIS_BLOCK, type Block, type Chain, type RejectionReason } from '../protocol/index.js';

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

export interface ChainFollowerOptions {
  kafka: Kafka;
  topic: string;
  chain: Chain;
  logger: Logger;
  /**
   * Called for each block that joined the chain, before later messages are applied. `bytes` is the message
   * it was decoded from: exactly encodeBlock(block), since only the canonical encoding is accepted.
   */
  onAccepted?: (block: Block, offset: number, bytes: Uint8Array) => void | Promise<void>;
  /** Called for each message that was rejected: forged, corrupt, stale or a lost race. */
  onRejected?: (rejection: BlockRejection) => void | Promise<void>;
  /** Prefix of the throw-away consumer group; offsets are never committed. */
  groupIdPrefix?: string;
}

/** A block this process checked against the chain and is publishing: see expectOwnBlock. */
interface OwnBlock {
  readonly bytes: Buffer;
  readonly block: Block;
  readonly checkedAtVersion: number;
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const EMPTY = new Uint8Array(0);

export class ChainFollower {
  readonly chain: Chain;
  #consumer: Consumer | undefined;
  // One long-lived admin: miners ask for the topic's end before every block.
  #admin: Admin | undefined;
  #appliedOffset = -1;
  #knownEndOffset = 0;
  #replayEndOffset = 0;
  #waiters: Waiter[] = [];
  #failure: Error | undefined;
  #ownBlock: OwnBlock | undefined;

  constructor(private readonly options: ChainFollowerOptions) {
    this.chain = options.chain;
  }

  /** Offset of the last message applied; -1 before the first. */
  get appliedOffset(): number {
    return this.#appliedOffset;
  }

  /** True once every message up to the end last seen on the topic has been applied. */
  get caughtUp(): boolean {
    return this.#failure === undefined && this.#appliedOffset + 1 >= this.#knownEndOffset && this.#consumer !== undefined;
  }

  /** Whether the message at this offset was already on the topic when the follower started (history, not news). */
  isReplay(offset: number): boolean {
    return offset < this.#replayEndOffset;
  }

  /** Set when the consumer crashed for good; the service should then report not ready. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  async start(): Promise<void> {
    const { kafka, topic, logger } = this.options;
    const consumer = kafka.consumer({
      groupId: `${this.options.groupIdPrefix ?? 'chainlog-chain-follower'}-${randomUUID()}`,
      // Reading from the start on every run: the chain is rebuilt from the log, never from saved offsets.
      allowAutoTopicCreation: false,
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) {
        this.#failure = payload.error;
        this.#rejectWaiters(payload.error);
      }
      // A crash kafkajs restarts by itself is a warning; one it gives up on is an error.
      logger[payload.restart ? 'warn' : 'error']({ err: payload.error, restart: payload.restart }, 'chain follower consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    this.#knownEndOffset = await this.endOffset();
    this.#replayEndOffset = this.#knownEndOffset;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        this.#knownEndOffset = Math.max(this.#knownEndOffset, Number(batch.highWatermark));
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) return;
          await this.#applyMessage(Number(message.offset), message.value ?? EMPTY);
        }
        await heartbeat();
      },
    });
    this.#consumer = consumer;
  }

  async #applyMessage(offset: number, value: Uint8Array): Promise<void> {
    // A rebalance of the throw-away group can redeliver what was applied already.
    if (offset <= this.#appliedOffset) return;
    const own = this.#ownBlock;
    const isOwn = own !== undefined && own.bytes.equals(value);
    if (isOwn) this.#ownBlock = undefined;
    const result = isOwn ? this.chain.applyChecked(own.block, own.checkedAtVersion) : this.chain.apply(value);
    if (result.accepted) {
      await this.options.onAccepted?.(result.block, offset, value);
    } else {
      const { reason, detail, claimedIndex, claimedMiner } = result;
      const rejection: BlockRejection = { offset, reason, detail };
      if (claimedIndex !== undefined) rejection.claimedIndex = claimedIndex;
      if (claimedMiner !== undefined) rejection.claimedMiner = claimedMiner;
      if (reason === 'stale' && claimedIndex === 0 && GENESIS_BYTES.equals(value)) rejection.duplicateGenesis = true;
      await this.options.onRejected?.(rejection);
    }
    this.#appliedOffset = offset;
    this.#resolveWaiters();
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
      const admin = this.options.kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    const offsets = await this.#admin.fetchTopicOffsets(this.options.topic);
    const end = Math.max(0, ...offsets.map((partition) => Number(partition.high)));
    this.#knownEndOffset = Math.max(this.#knownEndOffset, end);
    return end;
  }

  /** Resolves once everything published before this call has been applied. */
  async catchUp(timeoutMs = 60_000): Promise<void> {
    const end = await this.endOffset();
    if (end > 0) await this.waitUntilApplied(end - 1, timeoutMs);
  }

  /** Resolves once the message at `offset` has been applied to the chain. */
  waitUntilApplied(offset: number, timeoutMs = 60_000): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (offset <= this.#appliedOffset) return Promise.resolve();
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
      waiter.resolve();
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
    this.#rejectWaiters(new Error('chain follower stopped'));
    await this.#consumer?.disconnect();
    this.#consumer = undefined;
    await this.#admin?.disconnect();
    this.#admin = undefined;
  }
}
