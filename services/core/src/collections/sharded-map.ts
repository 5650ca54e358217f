/**
 * A Map that can outgrow V8's limit of 2^24 entries per Map or Set ("Map maximum size exceeded"), which a
 * ledger passes after ~16.7 million transactions: the chain's set of committed ids and the auditor's
 * indexes. Entries go into a list of Maps that each stay below the shard capacity; a lookup probes every
 * shard (one per ~8 million entries).
 */
const DEFAULT_SHARD_CAPACITY = 8_000_000;

export class ShardedMap<K, V> {
  readonly #shards: Map<K, V>[] = [new Map()];
  readonly #shardCapacity: number;
  #size = 0;

  constructor(shardCapacity = DEFAULT_SHARD_CAPACITY) {
    if (!Number.isSafeInteger(shardCapacity) || shardCapacity < 1) throw new RangeError('shard capacity must be ≥ 1');
    this.#shardCapacity = shardCapacity;
  }

  get size(): number {
    return this.#size;
  }

  get shardCount(): number {
    return this.#shards.length;
  }

  #shardOf(key: K): Map<K, V> | undefined {
    // Newest shard first: recent entries are the ones looked up and updated most.
    for (let i = this.#shards.length - 1; i >= 0; i--) {
      const shard = this.#shards[i] as Map<K, V>;
      if (shard.has(key)) return shard;
    }
    return undefined;
  }

  get(key: K): V | undefined {
    // One shard (fewer than shardCapacity entries, the usual case): one lookup instead of has() then get().
    if (this.#shards.length === 1) return (this.#shards[0] as Map<K, V>).get(key);
    return this.#shardOf(key)?.get(key);
  }

  has(key: K): boolean {
    return this.#shardOf(key) !== undefined;
  }

  set(key: K, value: V): this {
    const only = this.#shards.length === 1 ? (this.#shards[0] as Map<K, V>) : undefined;
    if (only !== undefined && only.size < this.#shardCapacity) {
      // One lookup instead of has() then set(): the size tells whether the key was new.
      const before = only.size;
      only.set(key, value);
      if (only.size !== before) this.#size++;
      return this;
    }
    const existing = this.#shardOf(key);
    if (existing !== undefined) {
      existing.set(key, value);
      return this;
    }
    let shard = this.#shards[this.#shards.length - 1] as Map<K, V>;
    if (shard.size >= this.#shardCapacity) {
      shard = new Map();
      this.#shards.push(shard);
    }
    shard.set(key, value);
    this.#size++;
    return this;
  }

  delete(key: K): boolean {
    const shard = this.#shardOf(key);
    if (shard === undefined) return false;
    shard.delete(key);
    this.#size--;
    return true;
  }

  *keys(): IterableIterator<K> {
    for (const shard of this.#shards) yield* shard.keys();
  }

  *values(): IterableIterator<V> {
    for (const shard of this.#shards) yield* shard.values();
  }
}
