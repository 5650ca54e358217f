/**
 * Reads the transactions topic (every partition, from the start, with a throw-away consumer group that
 * never commits) so the auditor knows what is pending: a transaction read here and not yet in the
 * canonical chain. Invalid messages are skipped (the miner sends them to the dead-letter topic).
 */
import type { Kafka } from 'kafkajs';
import { PARTITION_DISCOVERY_MS, TopicReader } from '@chainlog/core/kafka';
import type { Logger } from '@chainlog/core/logging';
import { decodeTransactionInput, type SourceOffset, transactionIdOf } from '@chainlog/core/protocol';
import type { PartitionSpan, UnreadPartition } from '../domain/not-found-answer.js';
import { ReadPositions } from '../domain/read-positions.js';
import type { PendingTracker } from '../domain/pending-tracker.js';
import { waitForTopic } from './wait-for-topic.js';

export type TransactionsFollowerState = 'idle' | 'waiting-for-topic' | 'catching-up' | 'caught-up' | 'failed' | 'stopped';

export class TransactionsFollower {
  #reader: TopicReader | undefined;
  #consuming = false;
  #stopped = false;
  #failure: Error | undefined;
  #started = false;
  #startOffsets = new Map<number, number>();
  /** Per partition: the end offset last seen. */
  readonly #ends = new Map<number, number>();
  /** Per partition: the next offset not handed to the tracker yet, and the lookups waiting on it. */
  readonly #positions = new ReadPositions();

  readonly #options: {
      kafka: Kafka;
      topic: string;
      logger: Logger;
      tracker: PendingTracker;
      topicPollIntervalMs?: number;
    };

  constructor(
    options: {
      kafka: Kafka;
      topic: string;
      logger: Logger;
      tracker: PendingTracker;
      topicPollIntervalMs?: number;
    },
  ) {
    this.#options = options;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  get state(): TransactionsFollowerState {
    if (this.#stopped) return 'stopped';
    if (this.#failure !== undefined) return 'failed';
    if (!this.#started) return 'idle';
    if (!this.#consuming) return 'waiting-for-topic';
    for (const [partition, end] of this.#ends) if ((this.#reader?.nextOffset(partition) ?? 0) < end) return 'catching-up';
    return 'caught-up';
  }

  get started(): boolean {
    return this.#started;
  }

  /**
   * Waits for the topic in the background; resolves at once. `consumed`: the chain's source offsets (after a
   * start from a checkpoint): each partition is read after them instead of from offset 0, since every record
   * up to them is in the chain already.
   */
  start(consumed: readonly SourceOffset[] = []): void {
    this.#started = true;
    this.#startOffsets = new Map(consumed.filter(({ topic }) => topic === this.#options.topic).map(({ partition, lastOffset }) => [partition, lastOffset + 1]));
    // Records below the start offsets are in the chain already: a lookup finds them in the index.
    for (const [partition, offset] of this.#startOffsets) this.#positions.advance(partition, offset);
    this.#run().catch((error: unknown) => {
      this.#failure = error as Error;
      this.#options.logger.error({ err: error }, 'transactions follower failed');
    });
  }

  async #run(): Promise<void> {
    const { kafka, topic, logger, tracker } = this.#options;
    const exists = await waitForTopic(kafka, topic, logger, {
      stopped: () => this.#stopped,
      ...(this.#options.topicPollIntervalMs === undefined ? {} : { intervalMs: this.#options.topicPollIntervalMs }),
    });
    if (!exists) return;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      tracker.ensurePartitions(offsets.length);
      for (const { partition, high } of offsets) this.#ends.set(partition, Number(high));
    } finally {
      await admin.disconnect();
    }
    if (this.#stopped) return;
    const reader = new TopicReader({
      kafka,
      topic,
      logger,
      name: 'transactions',
      groupIdPrefix: 'chainlog-auditor-pending',
      // A partition added by a scale-up is pending-tracked within seconds, not after kafkajs' 5 minutes.
      metadataMaxAgeMs: PARTITION_DISCOVERY_MS,
      startOffsets: this.#startOffsets,
      onBatch: (partition, highWatermark) => {
        this.#ends.set(partition, Math.max(this.#ends.get(partition) ?? 0, highWatermark));
      },
      onMessage: ({ partition, offset, value, timestamp }) => {
        const decoded = decodeTransactionInput(value);
        const id = decoded.ok ? transactionIdOf(decoded.value, { topic, partition, offset }) : undefined;
        tracker.observe(partition, offset, id, timestamp);
        this.#positions.advance(partition, offset + 1);
      },
      onFailure: (error) => {
        this.#failure = error;
      },
    });
    this.#reader = reader;
    await reader.start();
    this.#consuming = true;
  }

  /** The next offset of the partition the tracker has not been told about (0 before start). */
  position(partition: number): number {
    return this.#positions.position(partition);
  }

  /**
   * Resolves once the tracker knows every record of `spans` (an empty list), or with the partitions still
   * unread when `timeoutMs` passes or the follower stops first.
   */
  waitUntilRead(spans: readonly PartitionSpan[], timeoutMs: number): Promise<UnreadPartition[]> {
    return this.#positions.waitUntilRead(spans, timeoutMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#positions.close();
    await this.#reader?.stop();
  }
}
