/**
 * Everything the auditor knows, built from the blockchain topic (accepted and rejected blocks, in offset
 * order) and the transactions topic (what is pending), and the read model the API serves. Pure: no I/O,
 * no clocks except the injected one.
 */
import type {
  AccountView,
  AuditReportView,
  BlockSummaryView,
  CommitLagView,
  CoverageAnomalyView,
  HeadView,
  HistoryEntryView,
  ListOrder,
  RejectedBlockView,
  TransactionStatusView,
} from '@chainlog/core/api';
import type { BlockRejection } from '@chainlog/core/kafka';
import { type Block, Chain, type ChainState, COINBASE_SENDER, type ConsensusParams, derivedIdPosition, type RefusedRecord } from '@chainlog/core/protocol';
import { AuditLog, isForkReason, type CoverageAnomaly, type RejectedBlock } from './audit-log.js';
import type { IndexMeta, IndexStore } from '../store/index-store.js';
import { MemoryIndexStore } from '../store/memory-store.js';
import { ChainIndex } from './chain-index.js';
import { IndexCoverage } from './index-coverage.js';
import { INDEX_FORMAT } from './index-validity.js';
import { amountJson, Ledger, type OverdraftRecord } from './ledger.js';
import { type PendingStatus, PendingTracker, type PartitionLag, type RefusalLog } from './pending-tracker.js';

export interface AuditorStateOptions {
  readonly params: ConsensusParams;
  /** The transactions topic whose source ranges and messages are tracked for pending transactions. */
  readonly transactionsTopic: string;
  /** Rejections, forks and overdrafts kept in full (totals are kept for all). */
  readonly recentLimit?: number;
  /** Wire bytes of the decoded blocks kept in memory for queries. */
  readonly blockCacheBytes?: number;
  /** Pending transactions whose ids are indexed for status queries. */
  readonly pendingTrackLimit?: number;
  readonly clock?: () => number;
  /** Where blocks, the id index and account histories are kept; in memory when not given. */
  readonly store?: IndexStore;
  /** Which chain the stored index belongs to (IndexMeta.identity); see indexIdentity. */
  readonly identity?: string;
  /**
   * The back-fill keeps where its replay stands once this many transactions were back-filled since it last
   * did (a restarted auditor continues from there instead of from genesis). Each time writes the replay
   * window's ids: a few MiB at 1000 tx/s and a 60 s window.
   */
  readonly backfillResumeEvery?: number;
}

/** Default of AuditorStateOptions.backfillResumeEvery. */
export const BACKFILL_RESUME_EVERY = 100_000;

/** How complete the index and the ledger are (a start from a checkpoint back-fills them in the background). */
export interface IndexProgress {
  /** Every block from genesis to the top is indexed: an id not found was never committed. */
  readonly complete: boolean;
  /** Highest block index held. */
  readonly height: number;
  /** Every block 0..contiguousHeight is held (-1: not even genesis). */
  readonly contiguousHeight: number;
  /** Blocks below the top not indexed yet. */
  readonly missingBlocks: number;
  /** The last block whose transactions the balances and histories include. */
  readonly ledgerHeight: number;
  /** Balances and histories include every indexed block. */
  readonly ledgerComplete: boolean;
}

export interface AcceptedOutcome {
  readonly block: Block;
  readonly offset: number;
  /** Committed transactions other than the coinbase. */
  readonly userTransactions: number;
  /** The user transactions' timestamps (ingest's clock at acknowledgement, unless the client set one). */
  readonly transactionTimestamps: number[];
  readonly overdrafts: OverdraftRecord[];
}

/** One page of an account's history, and where the next one starts (null: none). */
interface HistoryPage {
  readonly from: number;
  readonly history: HistoryEntryView[];
  readonly next: number | null;
}

export interface RejectedOutcome {
  readonly record: RejectedBlock;
  readonly fork: boolean;
  /** False when the rejection was recorded (and reported) already: a replay after a restart. */
  readonly recorded: boolean;
}

export class AuditorState {
  readonly chain: Chain;
  readonly pending: PendingTracker;
  readonly store: IndexStore;
  readonly #identity: string;
  readonly #transactionsTopic: string;
  readonly #clock: () => number;
  readonly #recentLimit: number;
  readonly #blockCacheBytes: number | undefined;
  #index!: ChainIndex;
  #ledger!: Ledger;
  #audit!: AuditLog;
  /** The last block the ledger applied. */
  #ledgerHeight = -1;
  readonly #backfillResumeEvery: number;
  /** Transactions back-filled since the resume point was last kept. */
  #sinceResumeKept = 0;
  /** Inside #write: a refusal the tracker logs joins that write instead of making its own. */
  #writing = false;

  constructor(options: AuditorStateOptions) {
    this.chain = new Chain(options.params);
    this.#clock = options.clock ?? Date.now;
    this.#recentLimit = options.recentLimit ?? 1000;
    this.#blockCacheBytes = options.blockCacheBytes;
    this.store = options.store ?? new MemoryIndexStore();
    this.#identity = options.identity ?? '';
    this.#transactionsTopic = options.transactionsTopic;
    this.#backfillResumeEvery = options.backfillResumeEvery ?? BACKFILL_RESUME_EVERY;
    this.#load();
    this.pending = new PendingTracker({
      topic: options.transactionsTopic,
      chain: this.chain,
      refusals: this.#refusalLog(),
      ...(options.pendingTrackLimit === undefined ? {} : { trackLimit: options.pendingTrackLimit }),
    });
  }

  get index(): ChainIndex {
    return this.#index;
  }

  /** The pending tracker's refusals, kept in the store (with the index: on disk with DATA_DIR). */
  #refusalLog(): RefusalLog {
    const { store } = this;
    return {
      refusal: (id) => store.refusal(id),
      skip: (partition, offset) => store.skip(partition, offset),
      logRefusal: (id, refusal) => {
        if (this.#writing) store.putRefusal(id, refusal);
        else store.batch(() => store.putRefusal(id, refusal));
      },
    };
  }

  /**
   * The refusals source coverage read off the records themselves (their ids): what answers a lookup for a
   * refused transaction whose record the pending tracker never read (below a checkpoint, or read before its block).
   */
  #putRefused(refused: readonly RefusedRecord[]): void {
    for (const { partition, offset, reason, id } of refused) this.store.putRefusal(id, { partition, offset, reason });
  }

  /** The refusals a block names for this topic's records (every reason but duplicate: a duplicate's status is its first copy's). */
  #putSkips(block: Block): void {
    for (const source of block.sources) {
      if (source.topic !== this.#transactionsTopic) continue;
      for (const { offset, reason } of source.skipped ?? []) if (reason !== 'duplicate') this.store.putSkip(source.partition, offset, reason);
    }
  }

  get ledger(): Ledger {
    return this.#ledger;
  }

  /** Rejections, forks and coverage anomalies recorded (kept with the index: they survive a restart on DATA_DIR). */
  get audit(): AuditLog {
    return this.#audit;
  }

  get ledgerHeight(): number {
    return this.#ledgerHeight;
  }

  /** The index and ledger as the store holds them (what a previous run left, checked by the service first). */
  #load(): void {
    const meta = this.store.meta();
    // Another chain's index (other parameters, topic or format) is never loaded; the service then resets it.
    const usable = meta !== undefined && meta.identity === this.#identity && meta.format === INDEX_FORMAT;
    this.#index = new ChainIndex({
      store: this.store,
      coverage: new IndexCoverage(usable ? meta.ranges : []),
      ...(this.#blockCacheBytes === undefined ? {} : { blockCacheBytes: this.#blockCacheBytes }),
    });
    this.#ledgerHeight = usable ? meta.ledgerHeight : -1;
    this.#ledger = new Ledger({
      store: this.store,
      recentOverdrafts: this.#recentLimit,
      ...(usable ? { accounts: this.store.accounts(), overdraftTotal: meta.overdraftTotal } : {}),
    });
    this.#audit = new AuditLog({
      store: this.store,
      recentLimit: this.#recentLimit,
      ...(usable && meta.audit !== undefined ? { restored: meta.audit } : {}),
    });
  }

  /** Loads the index and ledger again from the store (once it opened: an on-disk store opens after construction). */
  reloadIndex(): void {
    this.#load();
  }

  /** Forgets the stored index and ledger (another chain's, or one that disagrees with this chain). Before any block. */
  resetIndex(): void {
    this.store.clear();
    this.#load();
  }

  indexProgress(): IndexProgress {
    const { coverage } = this.#index;
    return {
      complete: coverage.complete,
      height: coverage.top,
      contiguousHeight: coverage.contiguousTop,
      missingBlocks: coverage.missing,
      ledgerHeight: this.#ledgerHeight,
      ledgerComplete: coverage.complete && this.#ledgerHeight === coverage.top,
    };
  }

  /**
   * A block the chain accepted (ChainFollower's onAccepted: the chain already includes it). `wireBytes`, the
   * message it was decoded from, saves re-encoding it for the index.
   * `refused`: the records source coverage found the block refusing, with their ids (ChainFollower's onAccepted).
   */
  accept(block: Block, offset: number, wireBytes?: Uint8Array, refused: readonly RefusedRecord[] = []): AcceptedOutcome {
    // The chain counts every committed transaction from genesis, also after a start from a checkpoint.
    const firstSeq = this.chain.transactionCount - block.transactions.length;
    let overdrafts: OverdraftRecord[] = [];
    this.#write(() => {
      this.#index.put(block, offset, firstSeq, wireBytes);
      this.#putSkips(block);
      this.#putRefused(refused);
      if (this.#ledgerHeight === block.index - 1) overdrafts = this.#applyToLedger(block, firstSeq);
      // In the same write: the refusals it decides are kept with the block.
      this.pending.onBlock(block);
    });
    const transactionTimestamps = block.transactions.filter(({ from }) => from !== COINBASE_SENDER).map(({ timestamp }) => timestamp);
    return { block, offset, userTransactions: transactionTimestamps.length, transactionTimestamps, overdrafts };
  }

  /**
   * A canonical block below the live chain's start, from the back-fill (the background verification from
   * genesis after a start from a checkpoint), or the checkpoint's tip block itself. `firstSeq` comes from the
   * chain that accepted it. Blocks held already are left as they are.
   */
  backfill(block: Block, offset: number, firstSeq: number, wireBytes?: Uint8Array): boolean {
    let added = false;
    this.#write(() => {
      added = this.#index.put(block, offset, firstSeq, wireBytes);
      if (added) this.#putSkips(block);
    });
    return added;
  }

  /**
   * A block of the back-fill's replay from genesis (BackgroundVerifier's onAccepted): back-filled, and every
   * backfillResumeEvery transactions the replay's state after it (`state`) kept as the resume point.
   */
  backfillFromReplay(
    block: Block,
    offset: number,
    firstSeq: number,
    wireBytes: Uint8Array | undefined,
    state: () => ChainState | undefined,
    refused: readonly RefusedRecord[] = [],
  ): boolean {
    // Not cached decoded: the replay's blocks are the oldest, queries ask for the newest.
    let added = false;
    this.#write(() => {
      added = this.#index.put(block, offset, firstSeq, wireBytes, false);
      if (added) this.#putSkips(block);
      // Also for a block held already: its refusals may predate this index (a fresh volume, a newer checkpoint).
      this.#putRefused(refused);
    });
    this.#sinceResumeKept += block.transactions.length;
    if (this.#sinceResumeKept >= this.#backfillResumeEvery && this.keepBackfillResume(state(), offset, block.hash)) this.#sinceResumeKept = 0;
    return added;
  }

  /**
   * Keeps the back-fill replay's `state` as the resume point, when it is the state right after the block at
   * `offset` with hash `hash`, which the index holds (the service also calls this when it stops, so that a
   * rolling restart continues exactly where it stopped). True when kept.
   */
  keepBackfillResume(state: ChainState | undefined, offset: number, hash: string): boolean {
    if (state === undefined || state.tip.hash !== hash || this.#index.summary(state.tip.index)?.hash !== hash) return false;
    const { tip, transactionCount, sourceOffsets, recentIds, balances } = state;
    this.store.batch(() =>
      this.store.putBackfillResume({
        tipIndex: tip.index,
        tipHash: tip.hash,
        tipOffset: offset,
        transactionCount,
        sourceOffsets,
        recentIds,
        ...(balances === undefined ? {} : { balances }),
      }),
    );
    return true;
  }

  /**
   * Where an interrupted back-fill continues (the replay's state after a held block, and that block's offset),
   * or undefined: none kept, or it does not name a block this index holds with that hash and offset.
   */
  backfillResume(): { readonly offset: number; readonly state: ChainState } | undefined {
    const kept = this.store.backfillResume();
    if (kept === undefined) return undefined;
    const summary = this.#index.summary(kept.tipIndex);
    if (summary === undefined || summary.hash !== kept.tipHash || summary.offset !== kept.tipOffset) return undefined;
    const tip = this.#index.block(kept.tipIndex);
    if (tip?.hash !== kept.tipHash) return undefined;
    const { transactionCount, sourceOffsets, recentIds, balances } = kept;
    return { offset: kept.tipOffset, state: { tip, transactionCount, sourceOffsets, recentIds, ...(balances === undefined ? {} : { balances }) } };
  }

  /** Applies up to `maxBlocks` indexed blocks the ledger has not applied yet, in order; returns how many. */
  advanceLedger(maxBlocks: number): number {
    let applied = 0;
    while (applied < maxBlocks && this.#index.coverage.has(this.#ledgerHeight + 1)) {
      const index = this.#ledgerHeight + 1;
      // Read once, in order: not for the query cache (queries ask for the newest blocks, this walks up from genesis).
      const block = this.#index.block(index, false) as Block;
      const firstSeq = this.#index.firstSeq(index) as number;
      this.#write(() => this.#applyToLedger(block, firstSeq));
      applied++;
    }
    return applied;
  }

  /** Whether indexed blocks wait for the ledger (after a back-fill closed a gap). */
  get ledgerBehind(): boolean {
    return this.#index.coverage.has(this.#ledgerHeight + 1);
  }

  #applyToLedger(block: Block, firstSeq: number): OverdraftRecord[] {
    const overdrafts = this.#ledger.applyBlock(block, firstSeq);
    this.#ledgerHeight = block.index;
    return overdrafts;
  }

  /** One atomic change of the store, with the meta record that says how far it is valid. */
  #write(change: () => void): void {
    this.store.batch(() => {
      this.#writing = true;
      try {
        change();
        this.store.setMeta(this.#meta());
      } finally {
        this.#writing = false;
      }
    });
  }

  #meta(): IndexMeta {
    return {
      format: INDEX_FORMAT,
      identity: this.#identity,
      ranges: this.#index.coverage.ranges,
      ledgerHeight: this.#ledgerHeight,
      overdraftTotal: this.#ledger.overdraftCount,
      audit: this.#audit.totals(),
    };
  }

  /** A message the chain rejected (ChainFollower's onRejected). */
  reject(rejection: BlockRejection): RejectedOutcome {
    const fork = isForkReason(rejection.reason);
    const canonical = fork && rejection.claimedIndex !== undefined ? this.index.summary(rejection.claimedIndex) : undefined;
    const record: RejectedBlock = {
      offset: rejection.offset,
      reason: rejection.reason,
      detail: rejection.detail,
      ...(rejection.claimedIndex === undefined ? {} : { claimedIndex: rejection.claimedIndex }),
      ...(rejection.claimedMiner === undefined ? {} : { claimedMiner: rejection.claimedMiner }),
      chainHeight: this.index.height,
      ...(canonical === undefined ? {} : { canonicalHashAtIndex: canonical.hash }),
      observedAt: this.#clock(),
    };
    let recorded = false;
    this.#write(() => {
      recorded = this.#audit.record(record);
    });
    return { record, fork, recorded };
  }

  /** A block that claims offsets past a transactions partition's end (reported once per block: recorded false when it was already, before a restart). */
  recordAnomaly(anomaly: Omit<CoverageAnomaly, 'observedAt'>): { record: CoverageAnomaly; recorded: boolean } {
    const record = { ...anomaly, observedAt: this.#clock() };
    let recorded = false;
    this.#write(() => {
      recorded = this.#audit.recordAnomaly(record);
    });
    return { record, recorded };
  }

  head(): HeadView {
    const head = this.index.head();
    return {
      height: this.index.height,
      hash: head?.hash ?? null,
      timestamp: head?.timestamp ?? null,
      offset: head?.offset ?? null,
      transactionCount: this.index.transactionCount,
    };
  }

  confirmations(blockIndex: number): number {
    return this.index.height - blockIndex + 1;
  }

  /**
   * Up to `limit` summaries from index `from`: upwards (asc), or downwards to genesis (desc, newest first).
   * Undefined when one of them is not indexed yet (back-fill under way).
   */
  blockSummaries(from: number, limit: number, order: ListOrder = 'asc'): BlockSummaryView[] | undefined {
    const summaries: BlockSummaryView[] = [];
    const indexes = order === 'asc' ? pageUp(from, limit, this.index.height) : pageDown(from, limit);
    for (const index of indexes) {
      const summary = this.index.summary(index);
      const block = this.index.block(index);
      if (summary === undefined || block === undefined) return undefined;
      summaries.push({
        ...summary,
        previousHash: block.previousHash,
        merkleRoot: block.merkleRoot,
        miner: block.miner,
        difficulty: block.difficulty,
      });
    }
    return summaries;
  }

  transactionStatus(id: string): TransactionStatusView | undefined {
    const location = this.index.locate(id);
    const proven = location === undefined ? undefined : this.index.proven(location);
    if (location !== undefined && proven !== undefined) {
      return {
        status: 'committed',
        transactionId: id,
        blockIndex: location.blockIndex,
        position: location.position,
        blockHash: proven.blockHash,
        confirmations: this.confirmations(location.blockIndex),
        transaction: proven.transaction,
        proof: proven.proof,
        merkleRoot: proven.merkleRoot,
      };
    }
    const pending = this.pending.status(id) ?? this.#refusedByPosition(id);
    if (pending === undefined) return undefined;
    if (pending.status === 'dropped') return { ...pending, transactionId: id };
    return {
      status: 'pending',
      transactionId: id,
      partition: pending.partition,
      offset: pending.offset,
      enqueuedAt: isoOrNull(pending.enqueuedAt),
    };
  }

  /**
   * A derived id names its record: refused if a canonical block skipped that record for a reason, even when this
   * auditor never read the record itself (an index back-filled from genesis after a start from a checkpoint).
   */
  #refusedByPosition(id: string): PendingStatus | undefined {
    const position = derivedIdPosition(id);
    if (position === undefined || position.topic !== this.#transactionsTopic) return undefined;
    const reason = this.store.skip(position.partition, position.offset);
    return reason === undefined ? undefined : { status: 'dropped', partition: position.partition, offset: position.offset, reason };
  }

  /**
   * Balance and one page of history. `from` is a position in the account's history (0 = its oldest
   * transaction): asc lists from there towards the newest, desc from there towards the oldest (newest first).
   */
  account(id: string, from: number, limit: number, order: ListOrder = 'asc'): AccountView | undefined {
    const account = this.ledger.account(id);
    if (account === undefined) return undefined;
    const page = order === 'asc' ? this.#historyUp(id, from, limit, account.transactionCount) : this.#historyDown(id, Math.min(from, account.transactionCount - 1), limit);
    return {
      account: id,
      balance: amountJson(account.balance),
      // "0" is the mint: negative by construction, never overdrawn.
      overdrawn: account.balance < 0n && id !== COINBASE_SENDER,
      overdrafts: account.overdrafts,
      transactionCount: account.transactionCount,
      from: page.from,
      limit,
      next: page.next,
      history: page.history,
    };
  }

  auditReport(limit = this.#recentLimit): AuditReportView {
    const now = this.#clock();
    return {
      chain: this.head(),
      rejected: {
        total: this.audit.rejectedCount,
        byReason: this.audit.totalsByReason(),
        recent: this.audit.recent(limit).map(rejectedBlockView),
      },
      forks: { total: this.audit.forkCount, recent: this.audit.forks(limit).map(rejectedBlockView) },
      commitLag: this.pending.lag(now).map(lagView),
      anomalies: { total: this.audit.anomalyCount, recent: this.audit.anomalies(limit).map(anomalyView) },
      overdrafts: {
        total: this.ledger.overdraftCount,
        overdrawnAccountCount: this.ledger.overdrawnCount,
        overdrawnAccounts: this.ledger
          .overdrawnAccounts(limit)
          .map(({ account, balance, overdrafts }) => ({ account, balance: amountJson(balance), overdrafts })),
        recent: this.ledger.recentOverdrafts(limit).map((record) => ({
          ...record,
          balanceBefore: amountJson(record.balanceBefore),
          balanceAfter: amountJson(record.balanceAfter),
        })),
      },
    };
  }

  /** History from position `from` towards the newest. */
  #historyUp(id: string, from: number, limit: number, count: number): HistoryPage {
    const history = this.ledger.history(id, from, limit).map((seq) => this.#historyEntry(id, seq));
    const next = from + history.length;
    return { from, history, next: next < count && history.length > 0 ? next : null };
  }

  /** History from position `from` (at most the newest) towards the oldest, newest first. */
  #historyDown(id: string, from: number, limit: number): HistoryPage {
    const first = Math.max(0, from - limit + 1);
    const history = this.ledger
      .history(id, first, from - first + 1)
      .map((seq) => this.#historyEntry(id, seq))
      .reverse();
    return { from, history, next: first > 0 ? first - 1 : null };
  }

  #historyEntry(account: string, seq: number): HistoryEntryView {
    const location = this.index.locateSeq(seq);
    const transaction = location === undefined ? undefined : this.index.entry(seq, location);
    if (location === undefined || transaction === undefined) throw new Error(`history refers to a missing transaction ${seq}`);
    const coinbase = transaction.from === COINBASE_SENDER;
    const direction = transaction.from === transaction.to ? 'self' : transaction.to === account ? 'credit' : 'debit';
    return {
      transactionId: transaction.id,
      blockIndex: location.blockIndex,
      position: location.position,
      timestamp: transaction.timestamp,
      direction,
      counterparty: direction === 'debit' ? transaction.to : transaction.from,
      amount: transaction.amount,
      coinbase,
    };
  }
}

/** Milliseconds since the epoch as ISO 8601, or null beyond JavaScript's date range (±8.64e15 ms). */
function isoOrNull(ms: number): string | null {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function rejectedBlockView(record: RejectedBlock): RejectedBlockView {
  return {
    offset: record.offset,
    reason: record.reason,
    detail: record.detail,
    claimedIndex: record.claimedIndex ?? null,
    claimedMiner: record.claimedMiner ?? null,
    chainHeight: record.chainHeight,
    canonicalHashAtIndex: record.canonicalHashAtIndex ?? null,
    observedAt: new Date(record.observedAt).toISOString(),
  };
}

function anomalyView(anomaly: CoverageAnomaly): CoverageAnomalyView {
  return { ...anomaly, observedAt: new Date(anomaly.observedAt).toISOString() };
}

/** Indexes from, from + 1, … (at most limit of them, none past the head). */
function pageUp(from: number, limit: number, height: number): number[] {
  const indexes: number[] = [];
  for (let index = from; index < from + limit && index <= height; index++) indexes.push(index);
  return indexes;
}

/** Indexes from, from - 1, … (at most limit of them, none below genesis); `from` is at most the head. */
function pageDown(from: number, limit: number): number[] {
  const indexes: number[] = [];
  for (let index = from; index > from - limit && index >= 0; index--) indexes.push(index);
  return indexes;
}

export function lagView(lag: PartitionLag): CommitLagView {
  return {
    partition: lag.partition,
    pending: lag.pending,
    oldestAgeSeconds: lag.oldestAgeSeconds,
    oldestTimestamp: lag.oldestTimestamp ?? null,
  };
}
