// Keeps the transactions topic's partition count fresh by reading Kafka metadata periodically (the
// count is discovered, never configured: the operator grows the topic). It also tells readiness whether
// Kafka answers and the topic exists.
import { partitionCount } from '@chainlog/core/kafka';
import type { Logger } from '@chainlog/core/logging';
import type { Admin, Kafka } from 'kafkajs';
import { AdminPoller } from './admin-poller.js';

export interface TopicState {
  /** The last known partition count; kept while Kafka is unreachable, undefined when the topic is missing. */
  readonly partitions: number | undefined;
  /** The last metadata request succeeded and found the topic. */
  readonly available: boolean;
  readonly reason?: string;
}

export interface TopicWatcherOptions {
  kafka: Kafka;
  topic: string;
  refreshMs: number;
  logger: Logger;
  /** Called with every partition count read. */
  onPartitions?: (count: number) => void;
}

/** While Kafka is unreachable or the topic is missing, metadata is re-read at least this often. */
const RETRY_MS = 1000;

export class TopicWatcher {
  #current: TopicState = { partitions: undefined, available: false, reason: 'topic metadata not read yet' };
  readonly #poller: AdminPoller;

  readonly #options: TopicWatcherOptions;

  constructor(options: TopicWatcherOptions) {
    this.#options = options;
    this.#poller = new AdminPoller({
      kafka: options.kafka,
      poll: (admin) => this.#read(admin),
      onFailure: (error) =>
        this.#update({ partitions: this.#current.partitions, available: false, reason: `Kafka metadata request failed: ${(error as Error).message}` }),
      nextDelayMs: () => (this.#current.available ? options.refreshMs : Math.min(RETRY_MS, options.refreshMs)),
    });
  }

  state(): TopicState {
    return this.#current;
  }

  partitionCount(): number | undefined {
    return this.#current.partitions;
  }

  start(): void {
    this.#poller.start();
  }

  stop(): Promise<void> {
    return this.#poller.stop();
  }

  async #read(admin: Admin): Promise<void> {
    const { topic } = this.#options;
    const count = await partitionCount(admin, topic);
    this.#update(
      count === undefined || count < 1 ? { partitions: undefined, available: false, reason: `topic ${topic} does not exist` } : { partitions: count, available: true },
    );
  }

  #update(next: TopicState): void {
    const { topic, logger } = this.#options;
    if (next.partitions !== undefined) this.#options.onPartitions?.(next.partitions);
    if (next.available !== this.#current.available || next.partitions !== this.#current.partitions) {
      if (next.available) logger.info({ topic, partitions: next.partitions }, 'transactions topic available');
      else logger.warn({ topic, partitions: next.partitions, reason: next.reason }, 'transactions topic unavailable');
    }
    this.#current = next;
  }
}
