/**
 * Where the auditor keeps what grows with the chain: every canonical block (its wire bytes and summary), the
 * index transaction id → sequence number, each account's history, and the accounts' balances, with the
 * bookkeeping that says how far all of it is valid (docs/architecture.md, "The auditor's index"). Two
 * implementations: `MemoryIndexStore` (DATA_DIR unset: dev and tests, nothing survives a restart) and
 * `LevelIndexStore` (DATA_DIR set: on disk in LevelDB, kept across restarts and checked against the chain on
 * start). Reads are synchronous, so an HTTP handler answers without queueing behind I/O; writes may reach the
 * disk later (reads see them at once), and writers await `drained()` so that what waits stays bounded.
 */
import type { RecentId, RejectionReason, SkipReason, SourceOffset } from '@chainlog/core/protocol';
import type { BlockRange } from '../domain/index-coverage.js';

export interface StoredBlockSummary {
  readonly index: number;
  readonly hash: string;
  /** Offset of the block's message on the blockchain topic. */
  readonly offset: number;
  readonly timestamp: number;
  readonly transactionCount: number;
  /** Sequence number of the block's first transaction; sequence numbers count every committed transaction. */
  readonly firstSeq: number;
}

/** An account as the ledger keeps it (its history is kept apart, one entry per transaction). */
export interface AccountRecord {
  readonly balance: bigint;
  readonly transactionCount: number;
  readonly overdrafts: number;
}

/**
 * What a page of an account's history shows of one transaction, kept per sequence number so that a history
 * entry is one small read instead of a copy of its whole block (and the block's proof data) out of the store.
 */
export interface StoredEntry {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly timestamp: number;
}

/**
 * Where an interrupted back-fill continues: the background replay's chain state (docs/protocol.md §5.1's
 * ChainState without the tip block, which the index holds) after block `tipIndex`, saved now and then by the
 * back-fill itself. A restarted auditor replays from the block after it instead of from genesis; what it
 * trusts is its own earlier replay from genesis, on its own volume, bound to the index by the tip's hash.
 */
export interface BackfillResume {
  readonly tipIndex: number;
  readonly tipHash: string;
  /** The tip's offset on the blockchain topic: the replay continues at the next one. */
  readonly tipOffset: number;
  readonly transactionCount: number;
  readonly sourceOffsets: readonly SourceOffset[];
  readonly recentIds: readonly RecentId[];
  readonly balances?: ReadonlyArray<readonly [string, string]>;
}

/**
 * A transaction a canonical block consumed without carrying it (its source range's `skipped`, or a block of an
 * older protocol that names no reason): a terminal status, kept for as long as the index, so a lookup never
 * answers `unknown` for it once the pending tracker has seen it (docs/architecture.md, "Refused transactions").
 */
export interface StoredRefusal {
  readonly partition: number;
  readonly offset: number;
  readonly reason?: SkipReason;
}

/** How far the stored index is valid, written with every change (in the same write transaction). */
export interface IndexMeta {
  /** INDEX_FORMAT of the auditor that wrote it (another format is rebuilt). */
  readonly format: number;
  /** What chain it belongs to: the consensus parameters' fingerprint and the blockchain topic. */
  readonly identity: string;
  /** The blocks held. */
  readonly ranges: readonly BlockRange[];
  /** The last block the ledger (balances, histories) has applied; -1 before genesis. */
  readonly ledgerHeight: number;
  /** Overdrafts since genesis, up to ledgerHeight. */
  readonly overdraftTotal: number;
  /** What the audit log recorded (absent in an index written before it was kept: nothing recorded). */
  readonly audit?: AuditTotals;
}

/** The audit log's totals, kept with the index so a restart neither forgets nor re-counts what was reported. */
export interface AuditTotals {
  readonly rejectedByReason: Partial<Record<RejectionReason, number>>;
  readonly forks: number;
  readonly anomalies: number;
  /** The highest blockchain offset whose rejection is recorded (-1: none); a replay skips those at or below it. */
  readonly rejectedThrough: number;
  /** The same for coverage anomalies (reported once per block offset). */
  readonly anomaliesThrough: number;
}

/** The bounded lists of the audit report, kept across restarts by a persistent store (their newest entries). */
export type RecentListName = 'rejected' | 'forks' | 'anomalies' | 'overdrafts';

export interface IndexStore {
  /**
   * Whether the store outlives the process: it must then be checked against the chain on start, and it keeps the
   * ledger (accounts, histories, recent overdrafts: putAccount, putHistory, putRecent('overdrafts')) for a restart
   * to load. A store that does not gets none of the ledger's writes: the ledger holds them in the heap itself and
   * prepares nothing for the store (that preparing was about a quarter of AuditorState.accept's time in
   * bench/replay.ts, where every transaction overdraws).
   */
  readonly persistent: boolean;
  /** Where it lives, for logs ("memory" or a directory). */
  readonly location: string;
  meta(): IndexMeta | undefined;
  setMeta(meta: IndexMeta): void;
  summary(index: number): StoredBlockSummary | undefined;
  blockBytes(index: number): Buffer | undefined;
  /** The block's bytes without a copy where the store can: valid only until the store's next read (use at once). */
  blockBytesView(index: number): Buffer | undefined;
  /**
   * `bytes` may be a view into a larger buffer (a fetched message) and valid only during the call: a store that
   * keeps the Buffer itself copies it (both stores do).
   */
  putBlock(summary: StoredBlockSummary, bytes: Buffer): void;
  /**
   * Whether the store keeps, beside each block, what answers a transaction's status without decoding and
   * hashing the whole block (ChainIndex's proof data: the Merkle tree's levels and each transaction's place
   * in the wire bytes): on disk yes (a random lookup's block is rarely in the cache), in memory no (the
   * replay would pay for it on every block, and the memory for every hash).
   */
  readonly keepsProofData: boolean;
  putProofData(index: number, data: Buffer): void;
  proofData(index: number): Buffer | undefined;
  /** Like blockBytesView: valid only until the store's next read. */
  proofDataView(index: number): Buffer | undefined;
  /** Whether the store keeps a StoredEntry per transaction (on disk yes; in memory the decoded blocks serve). */
  readonly keepsEntries: boolean;
  putEntry(seq: number, entry: StoredEntry): void;
  entry(seq: number): StoredEntry | undefined;
  backfillResume(): BackfillResume | undefined;
  /** Call inside a batch, after the tip block's own write (or in the same batch). */
  putBackfillResume(resume: BackfillResume): void;
  /** The index of the block holding this sequence number: the held block with the greatest firstSeq ≤ seq. */
  blockIndexAtSeq(seq: number): number | undefined;
  transactionSeq(id: string): number | undefined;
  putTransaction(id: string, seq: number): void;
  /** A refused (or otherwise dropped) transaction by its id. */
  refusal(id: string): StoredRefusal | undefined;
  putRefusal(id: string, refusal: StoredRefusal): void;
  /** Why a canonical block left the record at `offset` of transactions partition `partition` out (its `skipped`). */
  skip(partition: number, offset: number): SkipReason | undefined;
  putSkip(partition: number, offset: number, reason: SkipReason): void;
  /** Every stored account, to load the ledger on start (a memory store has none: nothing outlives it). */
  accounts(): Iterable<[string, AccountRecord]>;
  putAccount(id: string, record: AccountRecord): void;
  /** The account's `ordinal`-th transaction (0 = its oldest) has sequence number `seq`. */
  putHistory(account: string, ordinal: number, seq: number): void;
  /** Sequence numbers of the account's transactions [from, from + limit), oldest first. */
  history(account: string, from: number, limit: number): number[];
  /**
   * Adds entry number `seq` (counting every entry the list ever had, from 0) to a recent list, and forgets entry
   * `seq - keep`: the list keeps its newest `keep` entries. `value` is plain data (no BigInts).
   */
  putRecent(list: RecentListName, seq: number, value: object, keep: number): void;
  /** A recent list's kept entries, oldest first (a memory store has none: nothing outlives it). */
  recent(list: RecentListName): unknown[];
  /** Runs the writes in `write` as one atomic change (a crash keeps all or none of them). */
  batch(write: () => void): void;
  /** Forgets everything (an index that belongs to another chain, or disagrees with this one). */
  clear(): void;
  /**
   * Resolves once the writes not on disk yet are within the store's bound (at once when they are, and always in
   * memory); rejects when a write failed. Whoever writes block after block awaits it between blocks.
   */
  drained(): Promise<void>;
  /** Bytes on disk (0 in memory). */
  sizeOnDisk(): number;
  close(): Promise<void>;
}
