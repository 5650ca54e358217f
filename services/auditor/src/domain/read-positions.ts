/**
 * How far the transactions follower has handed records to the pending tracker, per partition, and the lookups
 * waiting for it to get somewhere (read-your-writes, domain/not-found-answer.ts). A waiter keeps only the
 * partitions it still needs, so each record read costs one map lookup per waiting lookup, not a scan of all
 * partitions.
 */
import { type PartitionSpan, type UnreadPartition, unreadPartitions } from './not-found-answer.js';

interface Waiter {
  /** Per partition: the offset it still has to reach. */
  readonly remaining: Map<number, number>;
  readonly done: () => void;
}

export class ReadPositions {
  readonly #next = new Map<number, number>();
  readonly #waiters = new Set<Waiter>();
  #closed = false;

  /** The next offset of the partition not handed over yet (0 before any). */
  position(partition: number): number {
    return this.#next.get(partition) ?? 0;
  }

  /** Lookups waiting now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Every record of `partition` below `next` has been handed over (positions never go back). */
  advance(partition: number, next: number): void {
    if (next <= this.position(partition)) return;
    this.#next.set(partition, next);
    for (const waiter of this.#waiters) {
      const end = waiter.remaining.get(partition);
      if (end === undefined || next < end) continue;
      waiter.remaining.delete(partition);
      if (waiter.remaining.size === 0) waiter.done();
    }
  }

  /**
   * Resolves once every record of `spans` has been handed over (an empty list), or with the partitions still
   * short of their end when `timeoutMs` passes or close() is called first.
   */
  async waitUntilRead(spans: readonly PartitionSpan[], timeoutMs: number): Promise<UnreadPartition[]> {
    const unread = (): UnreadPartition[] => unreadPartitions(spans, (partition) => this.position(partition));
    const initially = unread();
    if (initially.length === 0 || this.#closed) return initially;
    await new Promise<void>((resolve) => {
      const waiter: Waiter = {
        remaining: new Map(initially.map(({ partition, end }) => [partition, end])),
        done: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.done, timeoutMs);
      this.#waiters.add(waiter);
    });
    return unread();
  }

  /** Releases every waiter (the follower stops) and every later one at once. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.done();
  }
}
