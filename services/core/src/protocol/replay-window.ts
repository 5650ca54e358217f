/**
 * Bounded replay protection (docs/protocol.md §2.5). With a replay window W (`ConsensusParams.replayWindowMs`):
 *
 * - a transaction with a client-chosen id is valid in a block only if its timestamp lies within W of the
 *   block's timestamp (block.timestamp − W ≤ tx.timestamp ≤ block.timestamp + W);
 * - its id is a duplicate iff the chain committed a transaction with that id whose timestamp is at least
 *   tip.timestamp − W (the tip being the block before it).
 *
 * Together they refuse every replay of a committed transaction for ever: while its timestamp is within W of
 * the tip its id is remembered, and once it is older than that the window rule refuses it (block timestamps
 * never decrease). So a reader keeps only the ids with timestamps in [tip − W, tip + W]: a bound set by the
 * throughput and W, not by the chain's age. Derived (`tx:…`) and coinbase ids are unique by construction
 * (source ranges tile every partition once; one coinbase per index) and are neither checked nor kept.
 *
 * Both rules depend on block timestamps only, never on a reader's clock, so every reader decides alike.
 */
import { isUserTransactionId } from './identifiers.js';

/** Whether the id is client-chosen (subject to the window) rather than derived or a coinbase id. */
export const isWindowedTransactionId = isUserTransactionId;

/** Why a transaction is outside the replay window of a block with this timestamp, or undefined when inside. */
export function replayWindowProblem(transaction: { readonly id: string; readonly timestamp: number }, blockTimestamp: number, windowMs: number): string | undefined {
  if (!isWindowedTransactionId(transaction.id)) return undefined;
  const { timestamp } = transaction;
  if (timestamp < blockTimestamp - windowMs) return `timestamp ${timestamp} is more than the replay window (${windowMs} ms) before the block's ${blockTimestamp}`;
  if (timestamp > blockTimestamp + windowMs) return `timestamp ${timestamp} is more than the replay window (${windowMs} ms) after the block's ${blockTimestamp}`;
  return undefined;
}

/** One remembered id: the timestamp of the transaction that committed it. */
export interface RecentId {
  readonly id: string;
  readonly timestamp: number;
}

/**
 * The ids of the replay window: id → timestamp, with expiry in buckets of timestamps so that pruning costs
 * what it removes. `has` is exact (it compares the timestamp), pruning only frees memory.
 */
export class RecentIds {
  readonly #timestamps = new Map<string, number>();
  /** bucket number (floor(timestamp / bucketMs)) → ids added with a timestamp in it. */
  readonly #buckets = new Map<number, string[]>();
  readonly #bucketMs: number;
  #cutoff = Number.NEGATIVE_INFINITY;

  constructor(windowMs: number) {
    // 16 buckets per window: at most 1/16 of the window's ids linger past their expiry.
    this.#bucketMs = Math.max(1, Math.ceil(windowMs / 16));
  }

  get size(): number {
    return this.#timestamps.size;
  }

  /** Committed with a timestamp at or after the current cutoff. */
  has(id: string): boolean {
    const timestamp = this.#timestamps.get(id);
    return timestamp !== undefined && timestamp >= this.#cutoff;
  }

  add(id: string, timestamp: number): void {
    this.#timestamps.set(id, timestamp);
    const bucket = Math.floor(timestamp / this.#bucketMs);
    const list = this.#buckets.get(bucket);
    if (list === undefined) this.#buckets.set(bucket, [id]);
    else list.push(id);
  }

  /** Forgets every id committed with a timestamp before `cutoff` (which never decreases). */
  expireBefore(cutoff: number): void {
    if (cutoff <= this.#cutoff) return;
    this.#cutoff = cutoff;
    const last = Math.floor(cutoff / this.#bucketMs);
    for (const [bucket, ids] of this.#buckets) {
      if (bucket >= last) continue;
      for (const id of ids) {
        const timestamp = this.#timestamps.get(id);
        // The same id may have been committed again later (after expiry): keep the newer entry.
        if (timestamp !== undefined && timestamp < cutoff) this.#timestamps.delete(id);
      }
      this.#buckets.delete(bucket);
    }
  }

  /** The live ids (timestamp ≥ cutoff), sorted by id: the canonical content of a checkpoint. */
  live(): RecentId[] {
    const result: RecentId[] = [];
    for (const [id, timestamp] of this.#timestamps) if (timestamp >= this.#cutoff) result.push({ id, timestamp });
    return result.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
