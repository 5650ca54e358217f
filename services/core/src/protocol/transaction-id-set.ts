/**
 * The set of committed transaction ids. A single JavaScript Set cannot hold more than 2^24 entries (V8
 * throws "Set maximum size exceeded"), far fewer than a ledger's lifetime of transactions, so ids go into
 * a list of Sets that each stay below that limit. Lookups probe every shard: one per ~8 million ids.
 */
const DEFAULT_SHARD_CAPACITY = 8_000_000;

export class TransactionIdSet {
  readonly #shards: Set<string>[] = [new Set()];
  readonly #shardCapacity: number;
  #size = 0;

  constructor(shardCapacity = DEFAULT_SHARD_CAPACITY) {
    if (!Number.isSafeInteger(shardCapacity) || shardCapacity < 1) throw new RangeError('shard capacity must be ≥ 1');
    this.#shardCapacity = shardCapacity;
  }

  get size(): number {
    return this.#size;
  }

  /** How many Sets hold the ids (exposed for tests and memory diagnostics). */
  get shardCount(): number {
    return this.#shards.length;
  }

  has(id: string): boolean {
    return this.#shards.some((shard) => shard.has(id));
  }

  /** Adds an id that is not yet present (callers check has() first: ids are never added twice). */
  add(id: string): void {
    let shard = this.#shards[this.#shards.length - 1] as Set<string>;
    if (shard.size >= this.#shardCapacity) {
      shard = new Set();
      this.#shards.push(shard);
    }
    shard.add(id);
    this.#size++;
  }
}
