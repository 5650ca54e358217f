/**
 * When to cut a block and what goes into it. Pure.
 *
 * Cutting: as soon as maxTransactions valid transactions are pending (the article's "every three
 * transactions"), or once the oldest pending entry has waited maxWaitMs. The cut threshold says when to cut,
 * not how much to take: a cut block takes everything pending up to the take limits (TakeLimits), so a backlog
 * (a restart, a slow cycle, a burst) drains in a few blocks instead of ageing out of the replay window. Poison messages and duplicates
 * count as pending for the timer, so a partition whose tail is only poison still gets its range covered
 * (by a block that may carry nothing but the coinbase) instead of being re-read and re-dead-lettered after
 * every restart.
 *
 * Contents: entries oldest first, up to the first valid transaction that would exceed limits.maxTransactions
 * or the first entry that would take the block's estimated size past limits.maxBytes (at least one entry is
 * always taken, so a partition never stalls), so every partition contributes a prefix of its pending entries and each source range runs from the
 * chain's last offset of that partition + 1 to the last entry taken. The block then carries them in block
 * order (partition, then offset), as the protocol's source coverage requires: a valid transaction whose id
 * the chain already has, or that an earlier one of this block carries, is a duplicate; duplicates and
 * poison messages are listed in their range's `skipped` with the reason every reader computes.
 */
import {
  authorizationProblem,
  canonicalTransactionJson,
  fundsProblem,
  replayWindowProblem,
  RunningBalances,
  type LedgerParams,
  type SkippedRecord,
  type SkipReason,
  type SourceRange,
  type Transaction,
} from '@chainlog/core/protocol';
import type { PendingEntry } from './pending-pool.js';

export interface CutPolicy {
  readonly maxTransactions: number;
  readonly maxWaitMs: number;
}

export interface PoolStats {
  /** Valid transactions pending (duplicates not yet recognised included). */
  readonly transactions: number;
  /** All pending entries, poison messages included. */
  readonly entries: number;
  readonly oldestReceivedAt: number | undefined;
}

export type CutDecision = { readonly cut: true } | { readonly cut: false; readonly wakeInMs: number | undefined };

export function cutDecision(stats: PoolStats, now: number, policy: CutPolicy): CutDecision {
  if (stats.entries === 0 || stats.oldestReceivedAt === undefined) return { cut: false, wakeInMs: undefined };
  if (stats.transactions >= policy.maxTransactions) return { cut: true };
  const waited = now - stats.oldestReceivedAt;
  if (waited >= policy.maxWaitMs) return { cut: true };
  return { cut: false, wakeInMs: policy.maxWaitMs - waited };
}

/** What the chain knows that the selection depends on (Chain implements it). */
export interface ChainKnowledge {
  hasTransaction(id: string): boolean;
  lastSourceOffset(topic: string, partition: number): number | undefined;
  /** Balances as of the tip (read only with ledger rules). */
  balance(account: string): bigint;
}

/**
 * The ledger rules (docs/protocol.md §4.4) the block is assembled under: who the coinbase pays, and how much,
 * since the coinbase comes first in block order and its amount can be spent by the block's transactions.
 */
export interface BlockLedger {
  readonly params: LedgerParams;
  readonly miner: string;
  readonly reward: number;
}

export interface BlockContents {
  /** User transactions, in pending order (the coinbase is added by assembleBlock). */
  readonly transactions: Transaction[];
  /** One range per partition touched, ascending by partition. */
  readonly sources: SourceRange[];
  /** Valid transactions skipped because their id is already in the chain or earlier in this block. */
  readonly duplicates: Transaction[];
  /** Valid transactions skipped because their timestamp is outside the replay window of the block. */
  readonly outOfWindow: Transaction[];
  /** Valid transactions refused by the ledger rules: `unauthorized` or `insufficient-funds`, in block order. */
  readonly refused: Array<{ readonly transaction: Transaction; readonly reason: 'unauthorized' | 'insufficient-funds' }>;
  readonly poison: number;
  /** Entries covered by the sources (transactions + duplicates + poison). */
  readonly covered: number;
}

/** The most one block takes from the pending pool (docs/protocol.md §2.5, "Choosing W"). */
export interface TakeLimits {
  /** New valid transactions (coinbase not counted); duplicates, out-of-window entries and poison do not count. */
  readonly maxTransactions: number;
  /** Estimated bytes of what the block carries for its entries (transactions and skip records); see entryBytes. */
  readonly maxBytes: number;
}

/**
 * An upper bound of what one pending entry adds to the encoded block: its canonical JSON and a comma when it
 * is carried, or a skip record (`{"offset":…,"reason":"insufficient-funds"},`, under 64 bytes) when it is
 * skipped. Identifiers are ASCII (identifiers.ts), so string length is byte length.
 */
export const SKIP_RECORD_BYTES = 64;
export function entryBytes(entry: PendingEntry): number {
  return entry.kind === 'transaction' ? Math.max(canonicalTransactionJson(entry.transaction).length + 1, SKIP_RECORD_BYTES) : SKIP_RECORD_BYTES;
}

/** The replay window (docs/protocol.md §2.5) of the block being assembled, when the chain has one. */
export interface BlockWindow {
  /** The block's timestamp (assembleBlock's: the clock, raised to the tip's). */
  readonly timestamp: number;
  readonly windowMs: number;
}

export function selectBlockContents(
  entries: readonly PendingEntry[],
  chain: ChainKnowledge,
  topic: string,
  limits: TakeLimits,
  window?: BlockWindow,
  ledger?: BlockLedger,
): BlockContents {
  const outside = (transaction: Transaction): boolean =>
    window !== undefined && replayWindowProblem(transaction, window.timestamp, window.windowMs) !== undefined;
  const lastOffsets = coveredThrough(entries, chain, topic, limits, outside);
  const taken = entries
    .filter((entry) => entry.offset <= (lastOffsets.get(entry.partition) ?? -1))
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  // Block order (partition, then offset) decides which of two copies of an id is the duplicate: the
  // order in which every reader walks the ranges (docs/protocol.md §3.7).
  const transactions: Transaction[] = [];
  const duplicates: Transaction[] = [];
  const outOfWindow: Transaction[] = [];
  const refused: BlockContents['refused'] = [];
  const skipped = new Map<number, SkippedRecord[]>();
  const ids = new Set<string>();
  // With ledger rules, balances move in block order, the coinbase first (docs/protocol.md §4.4).
  const running = ledger === undefined ? undefined : new RunningBalances(chain);
  running?.transfer({ from: '0', to: ledger?.miner ?? '', amount: ledger?.reward ?? 0 });
  let poison = 0;
  for (const entry of taken) {
    let reason: SkipReason;
    // Checked in the order of SKIP_REASONS: unauthorized, out-of-window, duplicate, insufficient-funds.
    if (entry.kind === 'transaction' && ledger !== undefined && authorizationProblem(entry.transaction, ledger.params) !== undefined) {
      refused.push({ transaction: entry.transaction, reason: 'unauthorized' });
      reason = 'unauthorized';
    } else if (entry.kind === 'transaction' && outside(entry.transaction)) {
      // Checked before duplicates, in the order of SKIP_REASONS.
      outOfWindow.push(entry.transaction);
      reason = 'out-of-window';
    } else if (entry.kind === 'transaction') {
      const { id } = entry.transaction;
      if (ids.has(id) || chain.hasTransaction(id)) {
        duplicates.push(entry.transaction);
        reason = 'duplicate';
      } else if (running !== undefined && fundsProblem(entry.transaction, running) !== undefined) {
        refused.push({ transaction: entry.transaction, reason: 'insufficient-funds' });
        reason = 'insufficient-funds';
      } else {
        transactions.push(entry.transaction);
        running?.transfer(entry.transaction);
        ids.add(id);
        continue;
      }
    } else {
      poison++;
      reason = entry.skip.reason;
    }
    const list = skipped.get(entry.partition) ?? [];
    list.push({ offset: entry.offset, reason });
    skipped.set(entry.partition, list);
  }
  const sources = [...lastOffsets]
    .sort(([a], [b]) => a - b)
    .map(([partition, lastOffset]): SourceRange => {
      const chainLast = chain.lastSourceOffset(topic, partition);
      const list = skipped.get(partition);
      return {
        topic,
        partition,
        firstOffset: chainLast === undefined ? 0 : chainLast + 1,
        lastOffset,
        ...(list === undefined ? {} : { skipped: list }),
      };
    });
  return { transactions, sources, duplicates, outOfWindow, refused, poison, covered: taken.length };
}

/**
 * Per partition, the last offset the block covers: entries are taken oldest first and the block stops
 * before the first new transaction that would exceed limits.maxTransactions, or the first entry that would
 * exceed limits.maxBytes once something is taken.
 */
function coveredThrough(
  entries: readonly PendingEntry[],
  chain: ChainKnowledge,
  topic: string,
  limits: TakeLimits,
  outside: (transaction: Transaction) => boolean,
): Map<number, number> {
  const ids = new Set<string>();
  const lastOffsets = new Map<number, number>();
  let taken = 0;
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (lastOffsets.size > 0 && bytes + size > limits.maxBytes) break;
    const chainLast = chain.lastSourceOffset(topic, entry.partition);
    if (chainLast !== undefined && entry.offset <= chainLast) {
      // The pool drops covered entries as blocks arrive; reaching this is a bug, and mining on would fork.
      throw new Error(`pending entry ${topic}/${entry.partition}@${entry.offset} is already covered by the chain (up to ${chainLast})`);
    }
    if (entry.kind === 'transaction' && !outside(entry.transaction)) {
      const { id } = entry.transaction;
      if (!ids.has(id) && !chain.hasTransaction(id)) {
        if (taken >= limits.maxTransactions) break;
        taken++;
      }
      ids.add(id);
    }
    bytes += size;
    lastOffsets.set(entry.partition, entry.offset);
  }
  return lastOffsets;
}
