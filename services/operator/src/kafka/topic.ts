// The transactions topic through the Kafka admin API: its partition count (polled, and read fresh by every
// reconcile) and growing it. Kafka cannot remove partitions, so growing is the only change ever made.
import { partitionCount } from '@chainlog/core/kafka';
import type { Logger } from '@chainlog/core/logging';
import type { Admin, Kafka } from 'kafkajs';

export interface TopicState {
  /** The last partition count read; undefined when the topic does not exist or was never read. */
  partitions: number | undefined;
  /** The last metadata request succeeded. */
  reachable: boolean;
  reason?: string;
}

export interface TopicPartitionsOptions {
  kafka: Kafka;
  topic: string;
  pollIntervalMs: number;
  logger: Logger;
  /** Called when a poll reads a partition count different from the previous one (or the topic appears). */
  onChange?: (partitions: number | undefined) => void;
}

/** While Kafka is unreachable, metadata is re-read at least this often. */
const RETRY_MS = 1000;

export class TopicPartitions {
  #admin: Admin | undefined;
  #connecting: Promise<Admin> | undefined;
  #current: TopicState = { partitions: undefined, reachable: false, reason: 'topic metadata not read yet' };
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;

  readonly #options: TopicPartitionsOptions;

  constructor(options: TopicPartitionsOptions) {
    this.#options = options;
  }

  get topic(): string {
    return this.#options.topic;
  }

  state(): TopicState {
    return this.#current;
  }

  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#polling = this.read()
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.#polling = undefined;
          this.#schedule(this.#current.reachable ? this.#options.pollIntervalMs : Math.min(RETRY_MS, this.#options.pollIntervalMs));
        });
    }, delayMs);
    this.#timer.unref();
  }

  async #connected(): Promise<Admin> {
    if (this.#admin !== undefined) return this.#admin;
    this.#connecting ??= (async () => {
      const admin = this.#options.kafka.admin();
      try {
        await admin.connect();
      } catch (error) {
        await admin.disconnect().catch(() => undefined);
        throw error;
      }
      this.#admin = admin;
      return admin;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #dropConnection(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  /** Reads the partition count now; throws when Kafka cannot be asked (the state records why). */
  async read(): Promise<number | undefined> {
    const { topic, logger } = this.#options;
    let partitions: number | undefined;
    try {
      partitions = await partitionCount(await this.#connected(), topic);
    } catch (error) {
      const reason = `Kafka metadata request failed: ${(error as Error).message}`;
      if (this.#current.reachable) logger.warn({ topic, reason }, 'Kafka unreachable');
      this.#current = { partitions: this.#current.partitions, reachable: false, reason };
      await this.#dropConnection();
      throw error;
    }
    const previous = this.#current;
    this.#current = partitions === undefined ? { partitions, reachable: true, reason: `topic ${topic} does not exist` } : { partitions, reachable: true };
    if (!previous.reachable) logger.info({ topic, partitions }, 'Kafka reachable');
    if (previous.partitions !== partitions) {
      logger.info({ topic, partitions, previous: previous.partitions }, partitions === undefined ? 'transactions topic missing' : 'transactions topic partitions read');
      this.#options.onChange?.(partitions);
    }
    return partitions;
  }

  /**
   * Grows the topic to `to` partitions; resolves with the count afterwards. Growing to a count the topic
   * already has (another actor was faster) is not an error.
   */
  async grow(to: number): Promise<number> {
    const { topic } = this.#options;
    const admin = await this.#connected();
    try {
      await admin.createPartitions({ topicPartitions: [{ topic, count: to }] });
    } catch (error) {
      const now = await this.read().catch(() => undefined);
      if (now !== undefined && now >= to) return now;
      throw error;
    }
    const after = await this.read();
    if (after === undefined || after < to) {
      // The controller applies new partitions asynchronously; metadata may lag one read behind.
      return to;
    }
    return after;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#dropConnection();
    await this.#polling;
  }
}
