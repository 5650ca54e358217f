/**
 * The committed transaction ids a chain must remember to reject duplicates: every id for ever (no replay
 * window), or only the ids of the replay window (replay-window.ts), a set whose size the throughput and the
 * window bound instead of the chain's age.
 */
import type { Block } from './block.js';
import { isWindowedTransactionId, RecentIds, type RecentId } from './replay-window.js';
import { ShardedMap } from '../collections/sharded-map.js';

export interface CommittedIds {
  /** Whether a transaction with this id would now be a duplicate. */
  has(id: string): boolean;
  /** Records the transactions of a block that joined the chain. */
  commit(block: Pick<Block, 'timestamp' | 'transactions'>): void;
  /** Ids held in memory. */
  readonly size: number;
}

/** Without a replay window: every id ever committed (a JavaScript Set holds at most 2^24, hence the shards). */
export class AllIds implements CommittedIds {
  readonly #ids = new ShardedMap<string, true>();

  get size(): number {
    return this.#ids.size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  commit(block: Pick<Block, 'transactions'>): void {
    for (const { id } of block.transactions) this.#ids.set(id, true);
  }
}

/** With a replay window: the client-chosen ids whose timestamp is at least the tip's timestamp − W. */
export class WindowedIds implements CommittedIds {
  readonly #recent: RecentIds;

  constructor(
    readonly windowMs: number,
    restored: readonly RecentId[] = [],
    tipTimestamp?: number,
  ) {
    this.#recent = new RecentIds(windowMs);
    for (const { id, timestamp } of restored) this.#recent.add(id, timestamp);
    if (tipTimestamp !== undefined) this.#recent.expireBefore(tipTimestamp - windowMs);
  }

  get size(): number {
    return this.#recent.size;
  }

  has(id: string): boolean {
    return this.#recent.has(id);
  }

  commit(block: Pick<Block, 'timestamp' | 'transactions'>): void {
    for (const { id, timestamp } of block.transactions) if (isWindowedTransactionId(id)) this.#recent.add(id, timestamp);
    this.#recent.expireBefore(block.timestamp - this.windowMs);
  }

  live(): RecentId[] {
    return this.#recent.live();
  }
}
