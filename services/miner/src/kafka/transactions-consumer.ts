// The miners' consumer group on the transactions topic. Ownership comes from the ordinal assignor; read
// positions never come from committed offsets: on every join the miner says where each assigned partition
// resumes and the consumer seeks there before its first fetch. The offsets it commits (commitCovered) are
// advisory: how far the canonical chain covers each partition, for ingest's mining-backlog check and lag tools.
import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '@chainlog/core/logging';
import type { Seek } from '../domain/resume.js';
import { ordinalAssigner } from './ordinal-assigner.js';

export interface TransactionMessage {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Kafka record timestamp, ms since the epoch. */
  readonly timestamp: number;
  readonly headers: IHeaders;
}

export interface TransactionsConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  ordinal: number;
  replicas: number | undefined;
  sessionTimeoutMs: number;
  logger: Logger;
  /**
   * Called synchronously on every group join with the partitions now assigned; returns where to read
   * each one from. Runs before the first fetch of the new generation, so nothing is read from elsewhere.
   */
  onAssigned: (partitions: number[]) => Seek[];
  /** Called for each message in offset order per partition; a rejection makes kafkajs retry it. */
  onMessage: (message: TransactionMessage) => Promise<void>;
  /** After each batch: the partition's end and the next offset this miner will read. */
  onPosition?: (partition: number, highWatermark: number, nextOffset: number) => void;
  /** The consumer crashed; `restart` tells whether kafkajs restarts it by itself. */
  onCrash?: (error: Error, restart: boolean) => void;
}

export class TransactionsConsumer {
  readonly #options: TransactionsConsumerOptions;
  #consumer: Consumer | undefined;
  #joined = false;
  readonly #paused = new Set<number>();

  constructor(options: TransactionsConsumerOptions) {
    this.#options = options;
  }

  /** True once the consumer has joined the group at least once and has not crashed for good since. */
  get joined(): boolean {
    return this.#joined;
  }

  async start(): Promise<void> {
    const { kafka, topic, groupId, ordinal, replicas, sessionTimeoutMs, logger } = this.#options;
    const consumer = kafka.consumer({
      groupId,
      partitionAssigners: [ordinalAssigner({ ordinal, ...(replicas === undefined ? {} : { replicas }) })],
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.min(3000, Math.floor(sessionTimeoutMs / 10))),
      // Short on purpose: kafkajs sleeps this long before fetching again whenever every partition is paused
      // (a full pending pool), even when one is resumed meanwhile, and that stall starved a miner working
      // off a backlog. Idle fetches return this often, so heartbeats and rebalances are never late either.
      maxWaitTimeInMs: 100,
      // Partitions the operator adds are noticed (and assigned) within this long.
      metadataMaxAge: 30_000,
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // Synchronous on purpose: kafkajs emits this right before the first fetch of the generation.
      const partitions = payload.memberAssignment[topic] ?? [];
      // Pauses outlive a rebalance but not a consumer restart after a crash: state them again.
      for (const partition of [...this.#paused]) {
        if (partitions.includes(partition)) consumer.pause([{ topic, partitions: [partition] }]);
        else {
          // kafkajs keeps a partition's pause across assignments: lost while paused and later gained back,
          // it would never be fetched again (nothing here would resume it), and its transactions never mined.
          consumer.resume([{ topic, partitions: [partition] }]);
          this.#paused.delete(partition);
        }
      }
      const seeks = this.#options.onAssigned([...partitions]);
      for (const { partition, offset } of seeks) consumer.seek({ topic, partition, offset: String(offset) });
      this.#joined = true;
      logger.info({ partitions, seeks, memberId: payload.memberId, leader: payload.isLeader }, 'joined the miners group');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.#joined = false;
      // A crash kafkajs restarts by itself is a warning; one it gives up on is an error.
      logger[payload.restart ? 'warn' : 'error']({ err: payload.error, restart: payload.restart }, 'transactions consumer crashed');
      this.#options.onCrash?.(payload.error, payload.restart);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // Offsets are resolved message by message below, so a batch cut short by a seek is not skipped.
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        let next: number | undefined;
        for (const message of batch.messages) {
          // A seek for this partition is pending (a new join): what follows was read from the old position.
          // Paused: the rest is fetched again from the last resolved offset after resume().
          if (!isRunning() || isStale() || this.#paused.has(batch.partition)) break;
          await this.#options.onMessage(toTransactionMessage(batch.partition, message));
          resolveOffset(message.offset);
          next = Number(message.offset) + 1;
          await heartbeat();
        }
        if (next !== undefined) this.#options.onPosition?.(batch.partition, Number(batch.highWatermark), next);
      },
    });
  }

  /**
   * Commits, for the group, the first offset of each partition no canonical block covers yet. Advisory (see
   * the top of this file); a commit refused by a rebalance is simply superseded by the next one.
   */
  async commitCovered(offsets: readonly { partition: number; offset: number }[]): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined || !this.#joined || offsets.length === 0) return;
    await consumer.commitOffsets(offsets.map(({ partition, offset }) => ({ topic: this.#options.topic, partition, offset: String(offset) })));
  }

  /** Stops fetching the partition (the pending pool is full); messages not yet handled are fetched again on resume. */
  pause(partition: number): void {
    if (this.#paused.has(partition)) return;
    this.#paused.add(partition);
    this.#consumer?.pause([{ topic: this.#options.topic, partitions: [partition] }]);
  }

  resume(partition: number): void {
    if (!this.#paused.delete(partition)) return;
    this.#consumer?.resume([{ topic: this.#options.topic, partitions: [partition] }]);
  }

  isPaused(partition: number): boolean {
    return this.#paused.has(partition);
  }

  async stop(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#joined = false;
    await consumer?.disconnect();
  }
}

function toTransactionMessage(partition: number, message: KafkaMessage): TransactionMessage {
  return {
    partition,
    offset: Number(message.offset),
    key: message.key,
    value: message.value,
    timestamp: Number(message.timestamp),
    headers: message.headers ?? {},
  };
}
