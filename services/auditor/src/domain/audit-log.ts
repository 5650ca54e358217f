/**
 * The record of blocks that did not join the canonical chain: the most recent ones in full, totals by
 * reason since the start of the topic, and the forks seen (competing or superseded blocks) listed apart
 * from forgeries and corruption; and the coverage anomalies (blocks claiming offsets past a partition's end).
 */
import type { CoverageAnomalyView } from '@chainlog/core/api';
import { REJECTION_REASONS, type RejectionReason } from '@chainlog/core/protocol';
import type { AuditTotals, IndexStore, RecentListName } from '../store/index-store.js';
import { MemoryIndexStore } from '../store/memory-store.js';
import { RecentList } from './lru.js';

/** Reasons that mean "a real block that lost the race" rather than a forged or corrupt one. */
export const FORK_REASONS: readonly RejectionReason[] = ['stale', 'fork'];

export interface RejectedBlock {
  /** Offset of the message on the blockchain topic. */
  readonly offset: number;
  readonly reason: RejectionReason;
  readonly detail: string;
  readonly claimedIndex?: number;
  readonly claimedMiner?: string;
  /** The canonical chain's height when the message was read (-1 before genesis). */
  readonly chainHeight: number;
  /** For stale and fork: the canonical block at the claimed index, when there is one. */
  readonly canonicalHashAtIndex?: string;
  /** When this auditor read the message (ms since the epoch); not part of the chain. */
  readonly observedAt: number;
}

/** A block that claims offsets past a transactions partition's end (chain-follower's SourceWait, past the end), as the API shows it but for when this auditor reported it (ms since the epoch). */
export type CoverageAnomaly = Omit<CoverageAnomalyView, 'observedAt'> & { readonly observedAt: number };

export function isForkReason(reason: RejectionReason): boolean {
  return FORK_REASONS.includes(reason);
}

/**
 * Kept in the IndexStore (on disk with DATA_DIR): the totals with the index's meta record, the recent lists as
 * entries, so a restarted auditor still shows the tampering it reported and never counts it twice. The follower
 * replays the blockchain topic from a checkpoint after a restart: a rejection at an offset recorded already is
 * not recorded again (offsets only grow on the one-partition topic).
 */
export class AuditLog {
  readonly #store: IndexStore;
  readonly #rejected: RecentList<RejectedBlock>;
  readonly #forks: RecentList<RejectedBlock>;
  readonly #anomalies: RecentList<CoverageAnomaly>;
  readonly #totals = new Map<RejectionReason, number>(REJECTION_REASONS.map((reason) => [reason, 0]));
  #rejectedThrough: number;
  #anomaliesThrough: number;

  /** `restored`: the totals a persisted log was at (IndexMeta.audit); its recent lists are then read from the store. */
  constructor(options: { store?: IndexStore; recentLimit?: number; restored?: AuditTotals } = {}) {
    const limit = options.recentLimit ?? 1000;
    const store = options.store ?? new MemoryIndexStore();
    const restored = options.restored;
    this.#store = store;
    for (const [reason, count] of Object.entries(restored?.rejectedByReason ?? {})) this.#totals.set(reason as RejectionReason, count);
    const rejected = [...this.#totals.values()].reduce((sum, count) => sum + count, 0);
    const kept = <T>(list: RecentListName): T[] => (restored === undefined ? [] : (store.recent(list) as T[]));
    this.#rejected = new RecentList(limit, rejected, kept<RejectedBlock>('rejected'));
    this.#forks = new RecentList(limit, restored?.forks ?? 0, kept<RejectedBlock>('forks'));
    this.#anomalies = new RecentList(limit, restored?.anomalies ?? 0, kept<CoverageAnomaly>('anomalies'));
    this.#rejectedThrough = restored?.rejectedThrough ?? -1;
    this.#anomaliesThrough = restored?.anomaliesThrough ?? -1;
  }

  /** Records an anomaly; false (nothing recorded) when one was recorded for its block already (a replay). */
  recordAnomaly(anomaly: CoverageAnomaly): boolean {
    if (anomaly.offset <= this.#anomaliesThrough) return false;
    this.#anomaliesThrough = anomaly.offset;
    this.#push('anomalies', this.#anomalies, anomaly);
    return true;
  }

  get anomalyCount(): number {
    return this.#anomalies.total;
  }

  /** The most recent coverage anomalies, newest first. */
  anomalies(limit?: number): CoverageAnomaly[] {
    return this.#anomalies.newestFirst(limit);
  }

  /** Records a rejection; false (nothing recorded) when its offset was recorded already (a replay after a restart). */
  record(rejection: RejectedBlock): boolean {
    if (rejection.offset <= this.#rejectedThrough) return false;
    this.#rejectedThrough = rejection.offset;
    this.#push('rejected', this.#rejected, rejection);
    if (isForkReason(rejection.reason)) this.#push('forks', this.#forks, rejection);
    this.#totals.set(rejection.reason, (this.#totals.get(rejection.reason) ?? 0) + 1);
    return true;
  }

  #push<T extends object>(name: RecentListName, list: RecentList<T>, entry: T): void {
    list.push(entry);
    this.#store.putRecent(name, list.total - 1, entry, list.capacity);
  }

  /** What the store keeps with the index's meta record. */
  totals(): AuditTotals {
    return {
      rejectedByReason: this.totalsByReason(),
      forks: this.#forks.total,
      anomalies: this.#anomalies.total,
      rejectedThrough: this.#rejectedThrough,
      anomaliesThrough: this.#anomaliesThrough,
    };
  }

  get rejectedCount(): number {
    return this.#rejected.total;
  }

  get forkCount(): number {
    return this.#forks.total;
  }

  /** Every reason, with 0 for the ones never seen. */
  totalsByReason(): Record<RejectionReason, number> {
    return Object.fromEntries(this.#totals) as Record<RejectionReason, number>;
  }

  /** The most recent rejections, newest first. */
  recent(limit?: number): RejectedBlock[] {
    return this.#rejected.newestFirst(limit);
  }

  /** The most recent forks (stale and fork rejections), newest first. */
  forks(limit?: number): RejectedBlock[] {
    return this.#forks.newestFirst(limit);
  }
}
