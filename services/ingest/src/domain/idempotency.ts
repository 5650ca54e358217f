// What ingest remembers of the ids it accepted, so that a retry is answered as the first request was and
// a different body under the same id is refused instead of silently losing to the first one in the chain.
// Only ids a client chose (its `id`, or one derived from its Idempotency-Key) are tracked; random ids are
// unique anyway. Bounded by count and age; per process (every replica remembers its own requests, and the
// chain's dedup by id stays the guarantee behind it). Pure: the clock is injected.

export interface TrackedItem {
  id: string;
  /** Digest of what the client sent for this transaction (submission.ts). */
  digest: string;
}

export interface Placement {
  partition: number;
  offset: number;
}

export type IdempotencyVerdict =
  /** Go on and produce; the tracked ids are reserved until commit or abort. */
  | { kind: 'proceed' }
  /** Every transaction was accepted before with this very content: answer with the first placements. */
  | { kind: 'replay'; placements: Placement[] }
  /** The id at `index` was accepted (or is being accepted) with other content. */
  | { kind: 'conflict'; index: number; id: string }
  /** The same content is being accepted by a concurrent request: retry shortly. */
  | { kind: 'in-progress'; index: number; id: string };

interface Accepted extends Placement {
  readonly id: string;
  readonly digest: string;
  readonly at: number;
}

/** Below this many dropped entries at its front the acceptance order is not compacted. */
const COMPACT_AFTER = 1024;

export interface IdempotencyOptions {
  maxEntries: number;
  ttlMs: number;
  clock: () => number;
}

export class IdempotencyRegistry {
  readonly #accepted = new Map<string, Accepted>();
  /**
   * Every acceptance in order, oldest first from #head; an entry whose id was accepted again later (no longer
   * the map's) is passed over. Expiry and the size bound used to take the Map's first key each time: a Map
   * iterator starts over every deleted slot at the front, so at its bound (100 000 entries, one dropped per
   * acceptance) each new id cost a scan, a tenth of ingest's CPU under load.
   */
  #order: Accepted[] = [];
  #head = 0;
  readonly #pending = new Map<string, string>();

  readonly #options: IdempotencyOptions;

  constructor(options: IdempotencyOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#accepted.size;
  }

  /**
   * Decides what to do with a request whose transactions are `items` (undefined: an untracked, random id).
   * 'proceed' reserves the tracked ids: call commit or abort afterwards.
   */
  admit(items: readonly (TrackedItem | undefined)[]): IdempotencyVerdict {
    this.#expire();
    const placements: Placement[] = [];
    for (const [index, item] of items.entries()) {
      if (item === undefined) continue;
      const pending = this.#pending.get(item.id);
      if (pending !== undefined) return pending === item.digest ? { kind: 'in-progress', index, id: item.id } : { kind: 'conflict', index, id: item.id };
      const accepted = this.#accepted.get(item.id);
      if (accepted !== undefined && accepted.digest !== item.digest) return { kind: 'conflict', index, id: item.id };
      if (accepted !== undefined) placements.push({ partition: accepted.partition, offset: accepted.offset });
    }
    if (items.length > 0 && placements.length === items.length) return { kind: 'replay', placements };
    for (const item of items) if (item !== undefined) this.#pending.set(item.id, item.digest);
    return { kind: 'proceed' };
  }

  /** Kafka acknowledged the request admitted with `items`: remember each tracked id with its placement. */
  commit(items: readonly (TrackedItem | undefined)[], placements: readonly Placement[]): void {
    const at = this.#options.clock();
    for (const [index, item] of items.entries()) {
      if (item === undefined) continue;
      this.#pending.delete(item.id);
      const placement = placements[index];
      if (placement === undefined) continue;
      // Accepted again: its age counts from its latest acceptance (the earlier entry in #order is passed over).
      const entry: Accepted = { id: item.id, digest: item.digest, partition: placement.partition, offset: placement.offset, at };
      this.#accepted.set(item.id, entry);
      this.#order.push(entry);
    }
    while (this.#accepted.size > this.#options.maxEntries) this.#dropOldest();
    this.#compact();
  }

  /** The request admitted with `items` failed (its outcome unknown): a retry may produce it again. */
  abort(items: readonly (TrackedItem | undefined)[]): void {
    for (const item of items) if (item !== undefined && this.#pending.get(item.id) === item.digest) this.#pending.delete(item.id);
  }

  #expire(): void {
    const oldest = this.#options.clock() - this.#options.ttlMs;
    for (let entry = this.#oldest(); entry !== undefined && entry.at <= oldest; entry = this.#oldest()) {
      this.#accepted.delete(entry.id);
      this.#head++;
    }
    this.#compact();
  }

  #dropOldest(): void {
    const entry = this.#oldest();
    if (entry === undefined) return;
    this.#accepted.delete(entry.id);
    this.#head++;
  }

  /** The oldest entry still remembered (at #head, once the superseded ones before it are passed over). */
  #oldest(): Accepted | undefined {
    for (; this.#head < this.#order.length; this.#head++) {
      const entry = this.#order[this.#head] as Accepted;
      if (this.#accepted.get(entry.id) === entry) return entry;
    }
    return undefined;
  }

  #compact(): void {
    if (this.#head < COMPACT_AFTER || this.#head * 2 < this.#order.length) return;
    this.#order = this.#order.slice(this.#head);
    this.#head = 0;
  }
}
