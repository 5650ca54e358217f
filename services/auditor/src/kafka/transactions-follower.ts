/**
 * Reads the transactions topic (every partition, from the start, with a throw-away consumer group that
 * never commits) so the auditor knows what is pending: a transaction read here and not yet in the
 * canonical chain. Invalid messages are skipped (the miner sends them to the dead-letter topic).
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@chainlog/core/logging';
import { decodeTransactionInput, derivedTransactionId } from '@chainlog/core/protocol';
import type { PendingTracker } from '../domain/pending-tracker.js';
import { waitForTopic } from './wait-for-topic.js';

export type TransactionsFollowerState = 'idle' | 'waiting-for-topic' | 'catching-up' | 'caught-up' | 'failed' | 'stopped';

const EMPTY = new Uint8Array(0);

export class TransactionsFollower {
  #consumer: Consumer | undefined;
  #consuming = false;
  #stopped = false;
  #failure: Error | undefined;
  #started = false;
  /** Per partition: the end offset last seen, and the next offset to read. */
  readonly #ends = new Map<number, number>();
  readonly #next = new Map<number, number>();

  constructor(
    private readonly options: {
      kafka: Kafka;
      topic: string;
      logger: Logger;
      tracker: PendingTracker;
      topicPollIntervalMs?: number;
    },
  ) {}

  get failure(): Error | undefined {
    return this.#failure;
  }

  get state(): TransactionsFollowerState {
    if (this.#stopped) return 'stopped';
    if (this.#failure !== undefined) return 'failed';
    if (!this.#started) return 'idle';
    if (!this.#consuming) return 'waiting-for-topic';
    for (const [partition, end] of this.#ends) if ((this.#next.get(partition) ?? 0) < end) return 'catching-up';
    return 'caught-up';
  }

  /** Waits for the topic in the background; resolves at once. */
  start(): void {
    this.#started = true;
    this.#run().catch((error: unknown) => {
      this.#failure = error as Error;
      this.options.logger.error({ err: error }, 'transactions follower failed');
    });
  }

  async #run(): Promise<void> {
    const { kafka, topic, logger, tracker } = this.options;
    const exists = await waitForTopic(kafka, topic, logger, {
      stopped: () => this.#stopped,
      ...(this.options.topicPollIntervalMs === undefined ? {} : { intervalMs: this.options.topicPollIntervalMs }),
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
    const consumer = kafka.consumer({ groupId: `chainlog-auditor-pending-${randomUUID()}`, allowAutoTopicCreation: false });
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.#failure = payload.error;
      // A crash kafkajs restarts by itself is a warning; one it gives up on is an error.
      logger[payload.restart ? 'warn' : 'error']({ err: payload.error, restart: payload.restart }, 'transactions consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        const { partition } = batch;
        this.#ends.set(partition, Math.max(this.#ends.get(partition) ?? 0, Number(batch.highWatermark)));
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) return;
          const offset = Number(message.offset);
          // A rebalance of the throw-away group redelivers from the start: skip what was read already.
          if (offset < (this.#next.get(partition) ?? 0)) continue;
          const decoded = decodeTransactionInput(message.value ?? EMPTY);
          const id = decoded.ok ? (decoded.value.id ?? derivedTransactionId(topic, partition, offset)) : undefined;
          tracker.observe(partition, offset, id, Number(message.timestamp));
          this.#next.set(partition, offset + 1);
        }
        await heartbeat();
      },
    });
    this.#consuming = true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#consumer?.disconnect();
    this.#consumer = undefined;
  }
}
