// Reads a whole topic, every partition from offset 0, with a throw-away consumer group that never commits:
// what a reader needs that rebuilds its state from the log on every start (the chain follower, the auditor's
// pending transactions and audit watermark). The one copy of the group, the crash handling and the
// de-duplication of what a rebalance delivers again.
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../logging/logger.js';

export interface TopicMessage {
  readonly partition: number;
  readonly offset: number;
  /** The message's value; an empty array for a null value (a tombstone). */
  readonly value: Buffer;
  readonly timestamp: number;
  readonly raw: KafkaMessage;
}

export interface TopicReaderOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly logger: Logger;
  /** Prefix of the consumer group; a random suffix makes the group new on every start. */
  readonly groupIdPrefix: string;
  /** What the reader is called in its log lines (`<name> consumer crashed`). */
  readonly name: string;
  /** How soon partitions added to the topic are read (kafkajs' metadataMaxAge; its default is 5 minutes). */
  readonly metadataMaxAgeMs?: number;
  /** Before a batch's messages: the partition's end as of this fetch. */
  readonly onBatch?: (partition: number, highWatermark: number) => void;
  /**
   * Every message once, in offset order per partition. `heartbeat` keeps the group membership alive while a
   * message takes long (the chain follower waiting for a block's source records).
   */
  readonly onMessage?: (message: TopicMessage, heartbeat: () => Promise<void>) => void | Promise<void>;
  /**
   * Instead of onMessage: each fetched batch at once, synchronously, `messages[first..]` being the ones not
   * handed over before. No object is made per message: for a reader that keeps every record of a busy topic
   * (source coverage), the per-message wrappers were a measurable part of a replay. A promise returned holds
   * the next fetch back until it settles (flow control: a worker thread's chunks still on their way).
   */
  readonly onMessages?: (partition: number, messages: readonly KafkaMessage[], first: number) => void | Promise<void>;
  /** The consumer crashed and kafkajs gives up on it: the reader is dead. */
  readonly onFailure?: (error: Error) => void;
  /**
   * Where to start reading each partition (default 0): a reader continuing from a checkpoint starts after it.
   * Applied on every group join, so a rebalance of the throw-away group never goes back to offset 0.
   */
  readonly startOffsets?: ReadonlyMap<number, number>;
  /** How long a fetch waits for new messages (kafkajs' default, 5 s, when unset). */
  readonly maxWaitTimeInMs?: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * The longest a reader works through a batch before it lets the event loop run. kafkajs hands a whole fetch
 * (tens of blocks of thousands of transactions during a replay) to one eachBatch call, and a handler that does
 * not wait on I/O runs them all in one go: the auditor's back-fill held its HTTP API for seconds at a time
 * (`/healthz` 3 s at 10M transactions). Yielding every few milliseconds costs a setImmediate per slice.
 */
export const READER_SLICE_MS = 10;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TopicReader {
  readonly #options: TopicReaderOptions;
  /** Per partition, the next offset not yet handed to onMessage. */
  readonly #next = new Map<number, number>();
  #consumer: Consumer | undefined;
  /** The consumer's group exists (its first join, or run() resolved): kafkajs takes a seek, pause or resume from then on. */
  #running = false;
  /** Partitions paused by the owner (applied when the consumer starts running, if paused before). */
  readonly #paused = new Set<number>();

  constructor(options: TopicReaderOptions) {
    this.#options = options;
    for (const [partition, offset] of options.startOffsets ?? []) this.#next.set(partition, offset);
  }

  /** The next offset of the partition not read yet (0 before its first message). */
  nextOffset(partition: number): number {
    return this.#next.get(partition) ?? 0;
  }

  /** Connects and subscribes; resolves once the consumer runs (messages then arrive in the background). */
  async start(): Promise<void> {
    const { kafka, topic, logger, name } = this.#options;
    // Reading from the start on every run: the state is rebuilt from the log, never from saved offsets.
    const consumer = kafka.consumer({
      groupId: `${this.#options.groupIdPrefix}-${randomUUID()}`,
      allowAutoTopicCreation: false,
      ...(this.#options.metadataMaxAgeMs === undefined ? {} : { metadataMaxAge: this.#options.metadataMaxAgeMs }),
      ...(this.#options.maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs: this.#options.maxWaitTimeInMs }),
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.#options.onFailure?.(payload.error);
      // A crash kafkajs restarts by itself is a warning; one it gives up on is an error.
      logger[payload.restart ? 'warn' : 'error']({ err: payload.error, restart: payload.restart }, `${name} consumer crashed`);
    });
    // Synchronous on purpose: kafkajs emits this right before the first fetch of the generation. A partition
    // with a known position (a start offset, what was read, a skipTo) continues there; the others start at 0.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // Paused before the consumer ran: not even the generation's first fetch reads them.
      if (!this.#running && this.#paused.size > 0) consumer.pause([{ topic, partitions: [...this.#paused] }]);
      this.#running = true;
      for (const partition of payload.memberAssignment[topic] ?? []) {
        const next = this.#next.get(partition);
        if (next !== undefined) consumer.seek({ topic, partition, offset: String(next) });
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        const { partition } = batch;
        this.#options.onBatch?.(partition, Number(batch.highWatermark));
        // A seek (a rebalance's) can only happen while this loop has yielded: staleness is checked before
        // the batch and after every handler that awaited, not per message. kafkajs' isStale() serialises a
        // key per call, and a replay of the transactions topic hands over hundreds of thousands of records.
        if (isStale()) return;
        const { onMessages } = this.#options;
        if (onMessages !== undefined) {
          const handed = this.#handBatch(partition, batch.messages, onMessages);
          if (handed !== undefined) await handed;
          await heartbeat();
          return;
        }
        let sliceStarted = performance.now();
        for (const message of batch.messages) {
          if (!isRunning()) return;
          const offset = Number(message.offset);
          // A rebalance of the throw-away group redelivers from the start: skip what was read already.
          if (offset < this.nextOffset(partition)) continue;
          const handled = this.#options.onMessage?.({ partition, offset, value: message.value ?? EMPTY, timestamp: Number(message.timestamp), raw: message }, heartbeat);
          // A synchronous handler costs no microtask per message.
          if (handled !== undefined) await handled;
          this.#next.set(partition, offset + 1);
          if (performance.now() - sliceStarted >= READER_SLICE_MS) {
            await yieldToEventLoop();
            sliceStarted = performance.now();
            if (isStale()) return;
          } else if (handled !== undefined && isStale()) return;
        }
        await heartbeat();
      },
    });
    if (!this.#running && this.#paused.size > 0) consumer.pause([{ topic, partitions: [...this.#paused] }]);
    this.#running = true;
  }

  #handBatch(partition: number, messages: readonly KafkaMessage[], onMessages: NonNullable<TopicReaderOptions['onMessages']>): void | Promise<void> {
    const next = this.nextOffset(partition);
    // A rebalance of the throw-away group redelivers from the start: skip what was read already.
    let first = 0;
    while (first < messages.length && Number((messages[first] as KafkaMessage).offset) < next) first++;
    if (first === messages.length) return;
    const handed = onMessages(partition, messages, first);
    this.#next.set(partition, Number((messages[messages.length - 1] as KafkaMessage).offset) + 1);
    return handed;
  }

  /**
   * Moves the partition's read position forward to `offset` (never back): what lies before it is never
   * handed over. For a reader whose owner learnt it will not need those messages (source-reader.ts).
   */
  skipTo(partition: number, offset: number): void {
    if (offset <= this.nextOffset(partition)) return;
    this.#next.set(partition, offset);
    // Before run() (or after stop()) the position applies at the next group join.
    if (this.#running) this.#consumer?.seek({ topic: this.#options.topic, partition, offset: String(offset) });
  }

  /** Stops fetching the partition (messages of a batch under way are still delivered). */
  pause(partition: number): void {
    this.#paused.add(partition);
    if (this.#running) this.#consumer?.pause([{ topic: this.#options.topic, partitions: [partition] }]);
  }

  resume(partition: number): void {
    this.#paused.delete(partition);
    if (this.#running) this.#consumer?.resume([{ topic: this.#options.topic, partitions: [partition] }]);
  }

  async stop(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#running = false;
    await consumer?.disconnect();
  }

  /** Whether start() ran and stop() did not. */
  get running(): boolean {
    return this.#consumer !== undefined;
  }
}

export interface ReadToEndOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly logger: Logger;
  readonly name: string;
  readonly groupIdPrefix: string;
  /** Every message from the start of each partition to the end it had when asked, in offset order per partition. */
  readonly onMessage: (message: TopicMessage) => void;
  /** How long the whole read may take; then it resolves 'timed-out' with what was read. */
  readonly timeoutMs: number;
}

/**
 * Reads a topic from its start to the end each partition had when asked, then stops: the latest value of
 * every key of a compacted topic (checkpoints), the highest offset an audit event reported. 'missing' when
 * the topic does not exist; a reader that crashes for good rejects.
 */
export async function readTopicToEnd(options: ReadToEndOptions): Promise<'complete' | 'timed-out' | 'missing'> {
  const { kafka, topic, logger, name, groupIdPrefix, timeoutMs } = options;
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    if (!(await admin.listTopics()).includes(topic)) return 'missing';
    // Partitions with messages, and the offset each must be read up to (exclusive).
    ends = new Map((await admin.fetchTopicOffsets(topic)).filter(({ high, low }) => Number(high) > Number(low)).map(({ partition, high }) => [partition, Number(high)]));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return 'complete';
  let settle: (outcome: 'complete' | 'timed-out') => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const finished = new Promise<'complete' | 'timed-out'>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const reader: TopicReader = new TopicReader({
    kafka,
    topic,
    logger,
    name,
    groupIdPrefix,
    onMessage: (message) => {
      options.onMessage(message);
      const { partition, offset } = message;
      if ([...ends].every(([p, end]) => (p === partition ? offset + 1 : reader.nextOffset(p)) >= end)) settle('complete');
    },
    onFailure: (error) => fail(error),
  });
  const timer = setTimeout(() => settle('timed-out'), timeoutMs);
  try {
    await reader.start();
    return await finished;
  } finally {
    clearTimeout(timer);
    await reader.stop();
  }
}
