/**
 * The live view of the ledger the explorer shows and refreshes: the head, the recent commit rate and the
 * commit lag per transactions partition. Bounded work per call whatever the chain's length: the rate walks
 * back from the head over at most RATE_MAX_BLOCKS block summaries.
 */
import type { CommitRateView, LiveView } from '@chainlog/core/api';
import { lagView, type AuditorState } from './auditor-state.js';

/** The commit rate is measured over the blocks of this last stretch of time (by their timestamps). */
export const RATE_WINDOW_MS = 60_000;
/** Most blocks looked at for the rate: beyond, the rate counts only these (a chain mining > 16 blocks/s). */
export const RATE_MAX_BLOCKS = 1000;

export function commitRate(state: AuditorState, now: number): CommitRateView {
  const since = now - RATE_WINDOW_MS;
  let blocks = 0;
  let transactions = 0;
  for (let index = state.index.height; index > 0 && blocks < RATE_MAX_BLOCKS; index--) {
    const summary = state.index.summary(index);
    if (summary === undefined || summary.timestamp <= since) break;
    blocks++;
    // Every block after genesis starts with its coinbase.
    transactions += summary.transactionCount - 1;
  }
  const seconds = RATE_WINDOW_MS / 1000;
  return { transactionsPerSecond: round(transactions / seconds), blocksPerMinute: round((blocks * 60) / seconds), windowSeconds: seconds };
}

export function liveView(state: AuditorState, caughtUp: boolean, now: number): LiveView {
  return {
    head: { ...state.head(), caughtUp },
    commitRate: commitRate(state, now),
    commitLag: state.pending.lag(now).map(lagView),
    rejectedTotal: state.audit.rejectedCount,
    at: now,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
