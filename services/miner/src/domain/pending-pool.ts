/**
 * The messages a miner has read from its transactions partitions but no canonical block has covered yet.
 *
 * Invariant, per owned partition p: the pool holds exactly the messages of p with offsets in
 * (chain's last offset of p, nextOffset(p)), in offset order. It starts empty at the resume offset
 * (chain's last offset + 1) when the partition is assigned, grows as messages arrive in order, and loses
 * its prefix whenever a canonical block covers it (`advance`, whoever mined that block). Messages below
 * nextOffset (redelivered, or fetched before a seek) are ignored, so nothing is counted twice.
 *
 * Entries keep their arrival order across partitions, so a block takes the oldest first and each
 * partition's part of a block is always a prefix of its entries.
 */
import type { Skip, Transaction } from '@chainlog/core/protocol';

interface EntryBase {
  readonly partition: number;
  readonly offset: number;
  /** When the miner read it (ms): the block-cutting timer starts at the oldest entry. */
  readonly receivedAt: number;
}

export type PendingEntry =
  | (EntryBase & { readonly kind: 'transaction'; readonly transaction: Transaction })
  /** A message that is not a valid transaction: dead-lettered, but still covered by the next block's range. */
  | (EntryBase & { readonly kind: 'poison'; readonly skip: Skip });

interface PartitionState {
  nextOffset: number;
  entries: { seq: number; entry: PendingEntry }[];
  transactions: number;
}

export type OfferResult = 'added' | 'not-owned' | 'already-seen';

export class PendingPool {
  readonly #partitions = new Map<number, PartitionState>();
  #seq = 0;

  /** Starts (or restarts) tracking a partition, empty, expecting its next message at resumeOffset. */
  assign(partition: number, resumeOffset: number): void {
    this.#partitions.set(partition, { nextOffset: resumeOffset, entries: [], transactions: 0 });
  }

  /** Forgets a partition this miner no longer owns. */
  revoke(partition: number): void {
    this.#partitions.delete(partition);
  }

  owns(partition: number): boolean {
    return this.#partitions.has(partition);
  }

  /** Owned partitions, ascending. */
  partitions(): number[] {
    return [...this.#partitions.keys()].sort((a, b) => a - b);
  }

  /** The offset the next message of the partition must have at least; undefined when not owned. */
  nextOffset(partition: number): number | undefined {
    return this.#partitions.get(partition)?.nextOffset;
  }

  offer(entry: PendingEntry): OfferResult {
    const state = this.#partitions.get(entry.partition);
    if (state === undefined) return 'not-owned';
    if (entry.offset < state.nextOffset) return 'already-seen';
    state.entries.push({ seq: this.#seq++, entry });
    if (entry.kind === 'transaction') state.transactions++;
    state.nextOffset = entry.offset + 1;
    return 'added';
  }

  /** A canonical block covered the partition up to lastOffset: drop what it covered. Returns how many. */
  advance(partition: number, lastOffset: number): number {
    const state = this.#partitions.get(partition);
    if (state === undefined) return 0;
    let dropped = 0;
    while (dropped < state.entries.length && (state.entries[dropped]?.entry.offset ?? Infinity) <= lastOffset) dropped++;
    for (const { entry } of state.entries.slice(0, dropped)) if (entry.kind === 'transaction') state.transactions--;
    state.entries.splice(0, dropped);
    // Messages at or below lastOffset that arrive later (the consumer was behind the chain) are covered already.
    state.nextOffset = Math.max(state.nextOffset, lastOffset + 1);
    return dropped;
  }

  /** Every entry, oldest first (arrival order across partitions, offset order within each). */
  entries(): PendingEntry[] {
    return [...this.#partitions.values()]
      .flatMap((state) => state.entries)
      .sort((a, b) => a.seq - b.seq)
      .map(({ entry }) => entry);
  }

  /** Pending entries (transactions and poison messages) of one partition, or of all. */
  size(partition?: number): number {
    if (partition !== undefined) return this.#partitions.get(partition)?.entries.length ?? 0;
    let total = 0;
    for (const state of this.#partitions.values()) total += state.entries.length;
    return total;
  }

  /** Pending valid transactions of one partition, or of all. */
  transactionCount(partition?: number): number {
    if (partition !== undefined) return this.#partitions.get(partition)?.transactions ?? 0;
    let total = 0;
    for (const state of this.#partitions.values()) total += state.transactions;
    return total;
  }

  /** When the oldest pending entry was read; undefined when nothing is pending. */
  oldestReceivedAt(): number | undefined {
    let oldest: number | undefined;
    for (const state of this.#partitions.values()) {
      const first = state.entries[0]?.entry.receivedAt;
      if (first !== undefined && (oldest === undefined || first < oldest)) oldest = first;
    }
    return oldest;
  }

  /**
   * The smallest transaction timestamp (ms) pending, poison excluded; undefined when none. The replay window
   * measures a transaction's age by this timestamp, not by when this miner read it (a restart re-reads).
   * A scan of the pool: called at scrape time only.
   */
  oldestTransactionTimestamp(): number | undefined {
    let oldest: number | undefined;
    for (const state of this.#partitions.values()) {
      for (const { entry } of state.entries) {
        if (entry.kind === 'transaction' && (oldest === undefined || entry.transaction.timestamp < oldest)) oldest = entry.transaction.timestamp;
      }
    }
    return oldest;
  }
}
