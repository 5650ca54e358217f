// Partition intake: the transactions partitions this miner owns and what is pending on them. It joins the
// miners' consumer group, seeks each partition it gains to where the chain says to resume, turns every
// message into a pending transaction or dead-letters it as poison, pauses a partition whose pending pool is
// full and resumes it once the chain has taken enough of it. The mining loop reads the pool; the chain
// follower tells this unit which offsets the chain has covered.
import type { Kafka } from 'kafkajs';
import type { Logger } from '@chainlog/core/logging';
import type { Block, Chain } from '@chainlog/core/protocol';
import type { MinerConfig } from './config.js';
import { intakeMessage } from './domain/intake.js';
import { PendingPool } from './domain/pending-pool.js';
import { planJoin, resumeOffset, type Seek } from './domain/resume.js';
import type { MinerProducer } from './kafka/producer.js';
import { TransactionsConsumer, type TransactionMessage } from './kafka/transactions-consumer.js';
import type { MinerMetrics } from './metrics.js';

/** Plain counts for tests and /status (the metrics have the same numbers). */
export interface IntakeStats {
  poison: number;
  pauses: number;
  pendingHighWater: number;
}

export interface PartitionIntakeOptions {
  readonly config: MinerConfig;
  readonly kafka: Kafka;
  readonly chain: Chain;
  readonly producer: MinerProducer;
  readonly metrics: MinerMetrics;
  readonly logger: Logger;
  readonly stats: IntakeStats;
  /** Something was added, revoked or trimmed: the mining loop looks again. */
  readonly onChange: () => void;
  /** Partitions this miner no longer owns (a rebalance): a block being mined from them must stop. */
  readonly onRevoked: (partitions: readonly number[]) => void;
  /** The consumer crashed for good. */
  readonly onFatal: (error: Error) => void;
  /** The partitions this miner owns now (on every group join). */
  readonly onOwned?: (partitions: readonly number[]) => void;
}

export class PartitionIntake {
  readonly pool = new PendingPool();
  readonly #options: PartitionIntakeOptions;
  readonly #consumer: TransactionsConsumer;
  /** Highest offset per partition this process already dead-lettered (re-reads after a rebalance skip it). */
  readonly #deadLettered = new Map<number, number>();
  /** The covered offsets last committed per partition, and whether a commit is under way or wanted. */
  readonly #committed = new Map<number, number>();
  #committing: Promise<void> | undefined;
  #commitWanted = false;
  #commitFailing = false;

  constructor(options: PartitionIntakeOptions) {
    this.#options = options;
    const { config, kafka, logger, metrics } = options;
    this.#consumer = new TransactionsConsumer({
      kafka,
      topic: config.topics.transactions,
      groupId: config.groupId,
      ordinal: config.ordinal,
      replicas: config.replicas,
      sessionTimeoutMs: config.sessionTimeoutMs,
      logger: logger.child({ component: 'transactions-consumer' }),
      onAssigned: (partitions) => this.#onAssigned(partitions),
      onMessage: (message) => this.#onMessage(message),
      onPosition: (partition, highWatermark, next) => {
        if (this.pool.owns(partition)) metrics.partitionLag.set({ partition: String(partition) }, Math.max(0, highWatermark - next));
      },
      onCrash: (error, restart) => {
        if (!restart) options.onFatal(error);
      },
    });
  }

  /** True once the consumer has joined the group and has not crashed for good since. */
  get joined(): boolean {
    return this.#consumer.joined;
  }

  isPaused(partition: number): boolean {
    return this.#consumer.isPaused(partition);
  }

  start(): Promise<void> {
    return this.#consumer.start();
  }

  stop(): Promise<void> {
    return this.#consumer.stop();
  }

  /** A block joined the chain: what it covers leaves the pool, and partitions drained enough resume. */
  onCanonicalBlock(block: Block): void {
    const topic = this.#options.config.topics.transactions;
    for (const source of block.sources) {
      if (source.topic === topic) this.pool.advance(source.partition, source.lastOffset);
    }
    this.#resumeDrainedPartitions();
    this.#commitCovered();
  }

  /**
   * Commits how far the chain covers the owned partitions (TransactionsConsumer.commitCovered), off the mining
   * path: one commit at a time, the latest state each time, nothing when it did not change.
   */
  #commitCovered(): void {
    this.#commitWanted = true;
    if (this.#committing !== undefined) return;
    this.#committing = (async () => {
      while (this.#commitWanted) {
        this.#commitWanted = false;
        const topic = this.#options.config.topics.transactions;
        const offsets = this.pool
          .partitions()
          .map((partition) => ({ partition, offset: resumeOffset(this.#options.chain.lastSourceOffset(topic, partition)) }))
          .filter(({ partition, offset }) => this.#committed.get(partition) !== offset);
        if (offsets.length === 0) continue;
        try {
          await this.#consumer.commitCovered(offsets);
          for (const { partition, offset } of offsets) this.#committed.set(partition, offset);
          this.#commitFailing = false;
        } catch (error) {
          // A rebalance or a broker hiccup: the next block commits again. Logged once per run of failures.
          if (!this.#commitFailing) this.#options.logger.warn({ err: error }, 'could not commit the covered offsets (advisory; retried with the next block)');
          this.#commitFailing = true;
        }
      }
    })().finally(() => {
      this.#committing = undefined;
    });
  }

  /** Resumes paused partitions whose pending pool has drained to half its bound (or that this miner lost). */
  #resumeDrainedPartitions(): void {
    const low = Math.floor(this.#options.config.maxPendingPerPartition / 2);
    for (const partition of this.pool.partitions().filter((owned) => this.#consumer.isPaused(owned))) {
      if (!this.pool.owns(partition) || this.pool.size(partition) <= low) {
        this.#consumer.resume(partition);
        this.#options.logger.info({ partition, pending: this.pool.size(partition) }, 'partition resumed');
      }
    }
  }

  #onAssigned(partitions: number[]): Seek[] {
    const { chain, config, logger, metrics } = this.#options;
    const topic = config.topics.transactions;
    const chainLast = (partition: number): number | undefined => chain.lastSourceOffset(topic, partition);
    const plan = planJoin(this.pool.partitions(), partitions, chainLast, (partition) => this.pool.nextOffset(partition));
    for (const partition of plan.revoked) {
      this.pool.revoke(partition);
      metrics.partitionLag.remove({ partition: String(partition) });
    }
    if (plan.revoked.length > 0) this.#options.onRevoked(plan.revoked);
    for (const seek of plan.seeks) {
      if (seek.gained) this.pool.assign(seek.partition, seek.offset);
      else {
        const last = chainLast(seek.partition);
        if (last !== undefined) this.pool.advance(seek.partition, last);
      }
    }
    logger.info({ assigned: partitions, revoked: plan.revoked, seeks: plan.seeks }, 'partition ownership changed');
    this.#options.onOwned?.(partitions);
    this.#options.onChange();
    // A new generation: commit again what the chain covers (after the join completes, not inside its handler).
    this.#committed.clear();
    setTimeout(() => this.#commitCovered(), 0).unref();
    return plan.seeks;
  }

  async #onMessage(message: TransactionMessage): Promise<void> {
    const { config, logger, metrics, producer, stats } = this.#options;
    const { partition, offset } = message;
    const next = this.pool.nextOffset(partition);
    if (next === undefined || offset < next) return;
    const topic = config.topics.transactions;
    const receivedAt = Date.now();
    const parsed = intakeMessage(message.value, { topic, partition, offset, timestamp: message.timestamp }, config.consensus);
    if (parsed.ok) {
      this.pool.offer({ kind: 'transaction', partition, offset, receivedAt, transaction: parsed.value });
      logger.debug({ partition, offset, transactionId: parsed.value.id }, 'transaction pending');
    } else {
      if (offset > (this.#deadLettered.get(partition) ?? -1)) {
        // Dead-lettered before it joins the pool: a block covering it never exists without the copy.
        await producer.deadLetter(message, parsed.error.detail);
        this.#deadLettered.set(partition, offset);
        metrics.poisonMessages.inc();
        stats.poison++;
        logger.warn({ topic, partition, offset, reason: parsed.error.detail }, 'poison message sent to the dead-letter topic');
      }
      this.pool.offer({ kind: 'poison', partition, offset, receivedAt, skip: parsed.error });
    }
    const pending = this.pool.size(partition);
    stats.pendingHighWater = Math.max(stats.pendingHighWater, pending);
    if (pending >= config.maxPendingPerPartition && !this.#consumer.isPaused(partition)) {
      this.#consumer.pause(partition);
      stats.pauses++;
      logger.info({ partition, pending: this.pool.size(partition) }, 'pending pool full, partition paused');
    }
    this.#options.onChange();
  }
}
