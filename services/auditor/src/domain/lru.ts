/**
 * A least-recently-used cache bounded by total weight (by default each entry weighs 1, so the bound is a
 * count). A Map keeps insertion order; a hit re-inserts the entry.
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, { value: V; weight: number }>();
  #weight = 0;

  readonly #weigh: (value: V) => number;

  constructor(
    readonly capacity: number,
    weigh: (value: V) => number = () => 1,
  ) {
    this.#weigh = weigh;
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError('capacity must be a non-negative integer');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Sum of the weights of the entries kept. */
  get weight(): number {
    return this.#weight;
  }

  /** Whether the entry is kept (not a use: its recency does not change). */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry?.value;
  }

  /** Adds the entry, evicting the least recently used ones over capacity (an entry heavier than it is not kept). */
  set(key: K, value: V): void {
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      this.#entries.delete(key);
      this.#weight -= existing.weight;
    }
    const weight = this.#weigh(value);
    if (weight > this.capacity) return;
    this.#entries.set(key, { value, weight });
    this.#weight += weight;
    for (const [oldest, entry] of this.#entries) {
      if (this.#weight <= this.capacity) break;
      this.#entries.delete(oldest);
      this.#weight -= entry.weight;
    }
  }
}

/** Keeps the most recent `capacity` items; older ones fall off. */
export class RecentList<T> {
  #items: T[] = [];
  #total = 0;

  /**
   * `total`: items added before (a ledger loaded from disk counts its earlier overdrafts); `kept`: the newest of
   * them, oldest first (a list restored from disk).
   */
  constructor(
    readonly capacity: number,
    total = 0,
    kept: Iterable<T> = [],
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError('capacity must be a non-negative integer');
    this.#total = total;
    this.#items = capacity === 0 ? [] : [...kept].slice(-capacity);
  }

  /** How many items were ever added, including those that fell off. */
  get total(): number {
    return this.#total;
  }

  push(item: T): void {
    this.#total++;
    if (this.capacity === 0) return;
    this.#items.push(item);
    // Trim in steps so pushes stay amortised O(1).
    if (this.#items.length >= this.capacity * 2) this.#items = this.#items.slice(-this.capacity);
  }

  /** The kept items, newest first, at most `limit` of them. */
  newestFirst(limit = this.capacity): T[] {
    const kept = this.#items.slice(-this.capacity);
    return kept.reverse().slice(0, Math.max(0, limit));
  }
}
