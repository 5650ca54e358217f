// Keeps the transactions topic's partition count fresh by reading Kafka metadata periodically (the
// count is discovered, never configured: the operator grows the topic). It also tells readiness whether
// Kafka answers and the topic exists.
import { partitionCount } from '@chainlog/core/kafka';
import type { Logger } from '@chainlog/core/logging';
import type { Admin, Kafka } from 'kafkajs';

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
  #admin: Admin | undefined;
  #current: TopicState = { partitions: undefined, available: false, reason: 'topic metadata not read yet' };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  readonly #options: TopicWatcherOptions;

  constructor(options: TopicWatcherOptions) {
    this.#options = options;
  }

  state(): TopicState {
    return this.#current;
  }

  partitionCount(): number | undefined {
    return this.#current.partitions;
  }

  start(): void {
    if (this.#running || this.#stopped) return;
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.refresh().finally(() => {
        this.#running = undefined;
        this.#schedule(this.#current.available ? this.#options.refreshMs : Math.min(RETRY_MS, this.#options.refreshMs));
      });
    }, delayMs);
    this.#timer.unref();
  }

  /** Reads the topic's metadata once. Never throws: failures become the state's reason. */
  async refresh(): Promise<void> {
    const { topic, logger } = this.#options;
    let next: TopicState;
    try {
      if (this.#admin === undefined) {
        const admin = this.#options.kafka.admin();
        this.#admin = admin;
        await admin.connect();
      }
      const count = await partitionCount(this.#admin, topic);
      next = count === undefined || count < 1
        ? { partitions: undefined, available: false, reason: `topic ${topic} does not exist` }
        : { partitions: count, available: true };
    } catch (error) {
      next = { partitions: this.#current.partitions, available: false, reason: `Kafka metadata request failed: ${(error as Error).message}` };
      const admin = this.#admin;
      this.#admin = undefined;
      await admin?.disconnect().catch(() => undefined);
    }
    if (next.partitions !== undefined) this.#options.onPartitions?.(next.partitions);
    if (next.available !== this.#current.available || next.partitions !== this.#current.partitions) {
      if (next.available) logger.info({ topic, partitions: next.partitions }, 'transactions topic available');
      else logger.warn({ topic, partitions: next.partitions, reason: next.reason }, 'transactions topic unavailable');
    }
    this.#current = next;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Disconnecting first makes a metadata request that waits on an unreachable broker fail at once.
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.disconnect().catch(() => undefined);
    await this.#running;
  }
}
