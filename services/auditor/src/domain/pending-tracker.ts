/**
 * Transactions seen on the transactions topic that are not yet in the canonical chain, per partition.
 *
 * A message is pending from when the auditor reads it until a canonical block's source range covers its
 * offset (or a block commits its id). A covered message whose id the chain does not hold was dropped by
 * the miner (a duplicate id or a transaction the miner refused, with the reason the block names): that is
 * written to the refusal log (the index store: kept with the index, on disk with DATA_DIR) so a status query
 * says so for as long as the index lives. Messages that are not valid transactions are not tracked at all.
 *
 * Ages use the Kafka record timestamp (when the message entered the log), not the transaction's own
 * timestamp, so a client-chosen timestamp cannot fake or hide a stuck partition.
 *
 * Memory: every pending message costs one small entry; ids of up to `trackLimit` pending transactions are
 * indexed for status queries (beyond that, counts and ages stay exact; a lookup that finds nothing cannot
 * rule out an untracked one, so the API answers a retryable 503 instead of unknown: domain/not-found-answer.ts).
 */
import { ShardedMap } from '@chainlog/core/collections';
import type { Block, SkipReason } from '@chainlog/core/protocol';

/** What the tracker needs to know about the canonical chain. */
export interface CommittedView {
  hasTransaction(id: string): boolean;
  /** The last offset of this transactions partition that a canonical block consumed. */
  lastSourceOffset(topic: string, partition: number): number | undefined;
}

/** Where refusals are kept (the index store), and the reasons canonical blocks gave for the records they skipped. */
export interface RefusalLog {
  refusal(id: string): { readonly partition: number; readonly offset: number; readonly reason?: SkipReason } | undefined;
  /** Keeps a refusal (the tracker calls it outside any other write: the log makes it durable on its own). */
  logRefusal(id: string, refusal: { readonly partition: number; readonly offset: number; readonly reason?: SkipReason }): void;
  /** The reason a canonical block named for skipping this record, if it named one. */
  skip(partition: number, offset: number): SkipReason | undefined;
}

interface PendingEntry {
  readonly partition: number;
  readonly offset: number;
  /** Undefined when the id is not indexed (beyond trackLimit, or a second pending copy of an indexed id). */
  readonly id: string | undefined;
  /** Not indexed because of trackLimit: a status query cannot find it. */
  readonly untracked: boolean;
  /** Kafka record timestamp, ms since the epoch. */
  readonly timestamp: number;
  done: boolean;
}

interface PartitionQueue {
  entries: PendingEntry[];
  head: number;
  pending: number;
}

export type PendingStatus =
  | { readonly status: 'pending'; readonly partition: number; readonly offset: number; readonly enqueuedAt: number }
  | { readonly status: 'dropped'; readonly partition: number; readonly offset: number; readonly reason?: SkipReason };

export interface PartitionLag {
  readonly partition: number;
  /** Transactions read from this partition and not yet in the chain. */
  readonly pending: number;
  /** Record timestamp of the oldest of them (ms), undefined when none is pending. */
  readonly oldestTimestamp: number | undefined;
  /** Seconds since then; 0 when none is pending. */
  readonly oldestAgeSeconds: number;
}

export class PendingTracker {
  readonly #topic: string;
  readonly #chain: CommittedView;
  readonly #trackLimit: number;
  readonly #partitions = new Map<number, PartitionQueue>();
  readonly #byId = new ShardedMap<string, PendingEntry>();
  readonly #refusals: RefusalLog;
  #untracked = 0;

  constructor(options: { topic: string; chain: CommittedView; refusals: RefusalLog; trackLimit?: number }) {
    this.#topic = options.topic;
    this.#chain = options.chain;
    this.#refusals = options.refusals;
    this.#trackLimit = options.trackLimit ?? 1_000_000;
  }

  /** Pending transactions whose id is indexed. */
  get trackedIds(): number {
    return this.#byId.size;
  }

  /** Pending transactions whose id is not indexed because of trackLimit: a lookup cannot rule them out. */
  get untrackedPending(): number {
    return this.#untracked;
  }

  get totalPending(): number {
    let total = 0;
    for (const queue of this.#partitions.values()) total += queue.pending;
    return total;
  }

  /** Makes partitions 0..count-1 known, so they are reported (with nothing pending) before any message. */
  ensurePartitions(count: number): void {
    for (let partition = 0; partition < count; partition++) this.#queue(partition);
  }

  /**
   * A message read from the transactions topic (in offset order per partition). `id` is the transaction's
   * id (its own, or the derived one), or undefined when the message is not a valid transaction.
   */
  observe(partition: number, offset: number, id: string | undefined, recordTimestamp: number): void {
    const queue = this.#queue(partition);
    if (id === undefined) return;
    const consumed = this.#chain.lastSourceOffset(this.#topic, partition);
    if (consumed !== undefined && offset <= consumed) {
      this.#refusedBefore(partition, offset, id);
      return;
    }
    if (this.#chain.hasTransaction(id)) return;
    const duplicate = this.#byId.has(id);
    const untracked = !duplicate && this.#byId.size >= this.#trackLimit;
    const indexed = !duplicate && !untracked;
    const entry: PendingEntry = { partition, offset, id: indexed ? id : undefined, untracked, timestamp: recordTimestamp, done: false };
    queue.entries.push(entry);
    queue.pending++;
    if (untracked) this.#untracked++;
    if (indexed) this.#byId.set(id, entry);
  }

  /**
   * A block joined the canonical chain (the chain already includes it). Call it inside the store write that
   * indexes the block, so its refusals are kept with it.
   */
  onBlock(block: Block): void {
    for (const transaction of block.transactions) {
      const entry = this.#byId.get(transaction.id);
      if (entry !== undefined) this.#finish(entry);
    }
    for (const source of block.sources) {
      if (source.topic !== this.#topic) continue;
      const queue = this.#queue(source.partition);
      // Why the block left a record out (source coverage, docs/protocol.md §3.7): the refusal's reason.
      const reasons = new Map((source.skipped ?? []).map(({ offset, reason }) => [offset, reason]));
      while (queue.head < queue.entries.length) {
        const entry = queue.entries[queue.head] as PendingEntry;
        if (entry.offset > source.lastOffset) break;
        if (!entry.done) {
          this.#finish(entry);
          if (entry.id !== undefined && !this.#chain.hasTransaction(entry.id)) {
            const reason = reasons.get(entry.offset);
            this.#refusals.logRefusal(entry.id, { partition: entry.partition, offset: entry.offset, ...(reason === undefined ? {} : { reason }) });
          }
        }
        queue.head++;
      }
      this.#compact(queue);
    }
  }

  /**
   * A record read after a canonical block consumed it: refused if that block named why it left it out. A
   * duplicate is not (its id's status is the committed copy's), nor a record whose reason is forgotten.
   */
  #refusedBefore(partition: number, offset: number, id: string): void {
    const reason = this.#refusals.skip(partition, offset);
    if (reason === undefined || reason === 'duplicate' || this.#chain.hasTransaction(id)) return;
    if (this.#refusals.refusal(id)?.offset === offset) return;
    this.#refusals.logRefusal(id, { partition, offset, reason });
  }


  status(id: string): PendingStatus | undefined {
    const entry = this.#byId.get(id);
    if (entry !== undefined) {
      return { status: 'pending', partition: entry.partition, offset: entry.offset, enqueuedAt: entry.timestamp };
    }
    const dropped = this.#refusals.refusal(id);
    return dropped === undefined ? undefined : { status: 'dropped', ...dropped };
  }

  /** Per partition: pending count and the oldest pending transaction's age. */
  lag(now: number): PartitionLag[] {
    return [...this.#partitions.keys()]
      .sort((a, b) => a - b)
      .map((partition) => {
        const queue = this.#queue(partition);
        while (queue.head < queue.entries.length && (queue.entries[queue.head] as PendingEntry).done) queue.head++;
        this.#compact(queue);
        const oldest = queue.entries[queue.head];
        return {
          partition,
          pending: queue.pending,
          oldestTimestamp: oldest?.timestamp,
          oldestAgeSeconds: oldest === undefined ? 0 : Math.max(0, (now - oldest.timestamp) / 1000),
        };
      });
  }

  #finish(entry: PendingEntry): void {
    if (entry.done) return;
    entry.done = true;
    this.#queue(entry.partition).pending--;
    if (entry.untracked) this.#untracked--;
    if (entry.id !== undefined && this.#byId.get(entry.id) === entry) this.#byId.delete(entry.id);
  }

  #queue(partition: number): PartitionQueue {
    let queue = this.#partitions.get(partition);
    if (queue === undefined) {
      queue = { entries: [], head: 0, pending: 0 };
      this.#partitions.set(partition, queue);
    }
    return queue;
  }

  /** Drops consumed entries from the front once they are at least half of the array (amortised O(1)). */
  #compact(queue: PartitionQueue): void {
    if (queue.head === queue.entries.length) {
      queue.entries = [];
      queue.head = 0;
    } else if (queue.head >= 1024 && queue.head * 2 >= queue.entries.length) {
      queue.entries = queue.entries.slice(queue.head);
      queue.head = 0;
    }
  }
}
