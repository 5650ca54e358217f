/**
 * Read-your-writes for lookups that find nothing (domain/not-found-answer.ts): fetches the transactions
 * topic's end offsets with an admin client, by a fetch that started after the request arrived (concurrent
 * lookups share one), and waits until the transactions follower has handed every record below them to the
 * pending tracker, all within `timeoutMs`.
 */
import type { Admin, Kafka } from 'kafkajs';
import { FreshFetch } from '../domain/fresh-fetch.js';
import type { PartitionSpan, TransactionsRead, UnreadPartition } from '../domain/not-found-answer.js';

/** How long a lookup may wait for the follower before the API answers 503 pending-catching-up. */
export const TRANSACTIONS_READ_TIMEOUT_MS = 2000;

/**
 * How long one fetch of the end offsets may take before its admin client is dropped: longer than a lookup
 * waits, so a slow broker's answer still serves the lookups that arrive next, but bounded, so a client stuck
 * on a dead connection does not hold every later lookup.
 */
const FETCH_TIMEOUT_MS = 10_000;

/** What the check needs of the transactions follower. */
export interface ReadPositions {
  waitUntilRead(spans: readonly PartitionSpan[], timeoutMs: number): Promise<UnreadPartition[]>;
}

export class TransactionsReadCheck {
  readonly #kafka: Kafka;
  readonly #topic: string;
  readonly #follower: ReadPositions;
  readonly #timeoutMs: number;
  readonly #ends: FreshFetch<PartitionSpan[]>;
  #admin: Admin | undefined;
  #stopped = false;

  constructor(options: { kafka: Kafka; topic: string; follower: ReadPositions; timeoutMs?: number }) {
    this.#kafka = options.kafka;
    this.#topic = options.topic;
    this.#follower = options.follower;
    this.#timeoutMs = options.timeoutMs ?? TRANSACTIONS_READ_TIMEOUT_MS;
    this.#ends = new FreshFetch(() => this.#fetchSpans());
  }

  /** Whether the tracker knows every record that was on the topic when this was called. Never throws. */
  async check(): Promise<TransactionsRead> {
    const deadline = Date.now() + this.#timeoutMs;
    let spans: PartitionSpan[];
    try {
      spans = await beforeDeadline(this.#ends.get(), deadline);
    } catch (error) {
      return { outcome: 'unreachable', detail: (error as Error).message };
    }
    const unread = await this.#follower.waitUntilRead(spans, Math.max(0, deadline - Date.now()));
    return unread.length === 0 ? { outcome: 'read' } : { outcome: 'behind', unread };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#dropAdmin();
  }

  async #fetchSpans(): Promise<PartitionSpan[]> {
    if (this.#stopped) throw new Error('the auditor is stopping');
    try {
      if (this.#admin === undefined) {
        const admin = this.#kafka.admin();
        this.#admin = admin;
        await admin.connect();
      }
      const offsets = await beforeDeadline(this.#admin.fetchTopicOffsets(this.#topic), Date.now() + FETCH_TIMEOUT_MS);
      return offsets.map(({ partition, low, high }) => ({ partition, low: Number(low), high: Number(high) }));
    } catch (error) {
      // No topic, no record on it: nothing to read.
      if ((error as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return [];
      // A client whose broker went away can hang on its old connection: the next fetch connects afresh.
      await this.#dropAdmin();
      throw error;
    }
  }

  async #dropAdmin(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}

/** The promise's value, or a rejection when `deadline` (ms since the epoch) comes first. */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const waitMs = Math.max(0, deadline - Date.now());
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the broker did not answer within ${waitMs} ms`)), waitMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
