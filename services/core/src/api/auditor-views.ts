// The JSON the auditor's API answers, by route: the one statement of these shapes. The auditor builds them,
// its OpenAPI schemas are type-checked against them (services/auditor/src/http/openapi.ts), and the CLI and the
// explorer read them. Types only, over protocol types only, so a browser bundle takes nothing else with them.
import type { Block, BlockHeader, InclusionProof, RejectionReason, SkipReason, Transaction } from '../protocol/index.js';

/** Paged lists go upwards from `from` (asc, the default) or downwards, newest first (desc). */
export type ListOrder = 'asc' | 'desc';

/** A ledger amount in minor units: a JSON number, or a decimal string beyond ±(2^53 - 1). */
export type AmountJson = number | string;

export interface HeadView {
  /** Index of the head block; -1 before genesis. */
  readonly height: number;
  readonly hash: string | null;
  readonly timestamp: number | null;
  /** Blockchain-topic offset of the head block. */
  readonly offset: number | null;
  /** Committed transactions, coinbases included. */
  readonly transactionCount: number;
}

/** GET /v1/chain/head. */
export interface HeadResponse extends HeadView {
  /** Every blockchain message up to the last known end offset is applied. */
  readonly caughtUp: boolean;
  /** Last blockchain-topic offset applied. */
  readonly appliedOffset: number;
}

export interface BlockSummaryView {
  readonly index: number;
  readonly hash: string;
  readonly previousHash: string;
  readonly merkleRoot: string;
  readonly miner: string;
  readonly difficulty: number;
  /** Offset of the block's message on the blockchain topic. */
  readonly offset: number;
  readonly timestamp: number;
  readonly transactionCount: number;
}

/** GET /v1/blocks. */
export interface BlockPage {
  readonly from: number;
  readonly limit: number;
  readonly order: ListOrder;
  readonly height: number;
  /** `from` of the next page, or null on the last page. */
  readonly next: number | null;
  readonly blocks: BlockSummaryView[];
}

/** GET /v1/blocks/:index. */
export interface BlockResponse {
  readonly offset: number;
  /** 1 for the head, +1 per block above it. */
  readonly confirmations: number;
  readonly block: Block;
}

/** A header with what seals it: what a block's hash, proof of work and signature are checked from. */
export type SealedHeader = BlockHeader & { readonly nonce: number; readonly hash: string; readonly signature?: string };

/** GET /v1/blocks/:index/header. */
export interface BlockHeaderResponse {
  readonly offset: number;
  readonly confirmations: number;
  readonly transactionCount: number;
  readonly header: SealedHeader;
}

export interface CommittedTransactionView {
  readonly status: 'committed';
  readonly transactionId: string;
  readonly blockIndex: number;
  /** Index in the block's transactions (0 is the coinbase) = proof.leafIndex. */
  readonly position: number;
  readonly blockHash: string;
  /** 1 when the block is the head, +1 per block on top of it. */
  readonly confirmations: number;
  readonly transaction: Transaction;
  readonly proof: InclusionProof;
  readonly merkleRoot: string;
}

export interface PendingTransactionView {
  readonly status: 'pending';
  readonly transactionId: string;
  readonly partition: number;
  readonly offset: number;
  /** null when the record's timestamp is no representable date (a producer may set any 64-bit value). */
  readonly enqueuedAt: string | null;
}

/**
 * A block consumed the message without including the transaction: refused, a terminal status. `reason` is
 * the refusal the block names for its offset (its source range's `skipped`, docs/protocol.md §3.7:
 * `unauthorized`, `insufficient-funds`, `duplicate`, `bad-signature`, …); absent only for blocks that name none.
 */
export interface DroppedTransactionView {
  readonly status: 'dropped';
  readonly transactionId: string;
  readonly partition: number;
  readonly offset: number;
  readonly reason?: SkipReason;
}

/** GET /v1/transactions/:id (200). */
export type TransactionStatusView = CommittedTransactionView | PendingTransactionView | DroppedTransactionView;

/** The error object of every 4xx/5xx body. */
export interface ErrorDetail {
  readonly code: string;
  readonly message: string;
  /** The offending parameter (code bad-parameter). */
  readonly parameter?: string;
}

/** GET /v1/transactions/:id (404). */
export interface UnknownTransactionView {
  readonly status: 'unknown';
  readonly transactionId: string;
  readonly error: ErrorDetail;
}

export interface HistoryEntryView {
  readonly transactionId: string;
  readonly blockIndex: number;
  readonly position: number;
  readonly timestamp: number;
  /** credit: the account received; debit: it sent; self: it sent to itself. */
  readonly direction: 'credit' | 'debit' | 'self';
  /** The other account ("0" for a coinbase). */
  readonly counterparty: string;
  readonly amount: number;
  readonly coinbase: boolean;
}

/** GET /v1/accounts/:id. */
export interface AccountView {
  readonly account: string;
  readonly balance: AmountJson;
  /** Below zero (allowed by the protocol, flagged); never for "0", the mint. */
  readonly overdrawn: boolean;
  readonly overdrafts: number;
  readonly transactionCount: number;
  readonly from: number;
  readonly limit: number;
  /** `from` of the next page, or null on the last page. */
  readonly next: number | null;
  readonly history: HistoryEntryView[];
}

export interface RejectedBlockView {
  readonly offset: number;
  readonly reason: RejectionReason;
  readonly detail: string;
  readonly claimedIndex: number | null;
  readonly claimedMiner: string | null;
  readonly chainHeight: number;
  readonly canonicalHashAtIndex: string | null;
  readonly observedAt: string;
}

export interface OverdraftView {
  readonly account: string;
  readonly transactionId: string;
  readonly blockIndex: number;
  readonly position: number;
  readonly amount: number;
  readonly balanceBefore: AmountJson;
  readonly balanceAfter: AmountJson;
}

export interface CommitLagView {
  readonly partition: number;
  readonly pending: number;
  readonly oldestAgeSeconds: number;
  readonly oldestTimestamp: number | null;
}

export interface OverdrawnAccountView {
  readonly account: string;
  readonly balance: AmountJson;
  readonly overdrafts: number;
}

/**
 * A block that claims transactions-topic offsets past the end of a partition (an honest miner never does):
 * every reader waits on it instead of deciding it, so the chain stops there until records exist.
 */
export interface CoverageAnomalyView {
  /** Offset of the block's message on the blockchain topic. */
  readonly offset: number;
  readonly claimedIndex: number;
  readonly claimedMiner: string;
  /** The transactions partition, and the offset through which the block claims it. */
  readonly partition: number;
  readonly claimedThrough: number;
  readonly detail: string;
  readonly observedAt: string;
}

export interface AuditReportView {
  readonly chain: HeadView;
  readonly rejected: {
    readonly total: number;
    readonly byReason: Record<RejectionReason, number>;
    readonly recent: RejectedBlockView[];
  };
  readonly forks: { readonly total: number; readonly recent: RejectedBlockView[] };
  readonly commitLag: CommitLagView[];
  readonly anomalies: { readonly total: number; readonly recent: CoverageAnomalyView[] };
  readonly overdrafts: {
    readonly total: number;
    readonly overdrawnAccountCount: number;
    readonly overdrawnAccounts: OverdrawnAccountView[];
    readonly recent: OverdraftView[];
  };
}

/** GET /v1/audit. */
export interface AuditResponse extends AuditReportView {
  readonly caughtUp: boolean;
}

export interface CommitRateView {
  /** User transactions (coinbases excluded) committed per second over the window. */
  readonly transactionsPerSecond: number;
  readonly blocksPerMinute: number;
  readonly windowSeconds: number;
}

/** GET /v1/chain/live, and each `event: live` of /v1/chain/events. */
export interface LiveView {
  readonly head: HeadView & { readonly caughtUp: boolean };
  readonly commitRate: CommitRateView;
  readonly commitLag: CommitLagView[];
  readonly rejectedTotal: number;
  /** When the auditor computed this view (ms since the epoch). */
  readonly at: number;
}
