/**
 * The record of blocks that did not join the canonical chain: the most recent ones in full, totals by
 * reason since the start of the topic, and the forks seen (competing or superseded blocks) listed apart
 * from forgeries and corruption.
 */
import type { CoverageAnomalyView } from '@chainlog/core/api';
import { REJECTION_REASONS, type RejectionReason } from '@chainlog/core/protocol';
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

export class AuditLog {
  readonly #rejected: RecentList<RejectedBlock>;
  readonly #forks: RecentList<RejectedBlock>;
  readonly #anomalies: RecentList<CoverageAnomaly>;
  readonly #totals = new Map<RejectionReason, number>(REJECTION_REASONS.map((reason) => [reason, 0]));

  constructor(options: { recentLimit?: number } = {}) {
    this.#rejected = new RecentList(options.recentLimit ?? 1000);
    this.#forks = new RecentList(options.recentLimit ?? 1000);
    this.#anomalies = new RecentList(options.recentLimit ?? 1000);
  }

  recordAnomaly(anomaly: CoverageAnomaly): void {
    this.#anomalies.push(anomaly);
  }

  get anomalyCount(): number {
    return this.#anomalies.total;
  }

  /** The most recent coverage anomalies, newest first. */
  anomalies(limit?: number): CoverageAnomaly[] {
    return this.#anomalies.newestFirst(limit);
  }

  record(rejection: RejectedBlock): void {
    this.#rejected.push(rejection);
    if (isForkReason(rejection.reason)) this.#forks.push(rejection);
    this.#totals.set(rejection.reason, (this.#totals.get(rejection.reason) ?? 0) + 1);
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
