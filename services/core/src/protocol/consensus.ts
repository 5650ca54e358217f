/**
 * Consensus parameters and rejection reasons. Every reader of the blockchain topic must use the same
 * parameters: the chain is a function of the log's order and these values, nothing else.
 */

import type { LedgerParams } from './ledger.js';

export interface ConsensusParams {
  /** Minimum leading zero bits of every block hash after genesis. */
  readonly minDifficulty: number;
  /** Amount of the coinbase transaction each block pays its miner (minor units, ≥ 1). */
  readonly blockReward: number;
  /** Permissioned mode when set: blocks must be signed by one of these raw Ed25519 public keys (hex). */
  readonly allowedMiners?: readonly string[];
  /** When true every non-coinbase transaction must carry a valid signature. */
  readonly requireTransactionSignatures?: boolean;
  /** Maximum transactions per block, coinbase included; unlimited when absent. */
  readonly maxBlockTransactions?: number;
  /**
   * Bounded replay protection (docs/protocol.md §2.5): client-chosen transaction ids must have timestamps
   * within this many ms of their block's and are deduplicated within it. Absent: ids are unique for ever
   * (every reader keeps every id).
   */
  readonly replayWindowMs?: number;
  /**
   * The permissioned ledger (ledger.ts, docs/protocol.md §4.4): accounts bound to keys, balances enforced in
   * every block of version 2 or later. Requires allowedMiners. Absent: balances are informational.
   */
  readonly ledger?: LedgerParams;
}

/**
 * Why a block did not join the chain, in the order the checks run: the first failing check names the
 * reason. (`bad-transaction` is also reported while decoding, when a transaction is not well-formed: after
 * `malformed` and `unsupported-version`, before `stale`; docs/protocol.md §4.3.)
 */
export const REJECTION_REASONS = [
  'malformed',
  'unsupported-version',
  'stale',
  'gap',
  'fork',
  'bad-version',
  'bad-timestamp',
  'bad-hash',
  'insufficient-work',
  'unsigned',
  'unknown-signer',
  'bad-signature',
  'too-many-transactions',
  'bad-merkle-root',
  'bad-coinbase',
  'bad-transaction',
  'duplicate-transaction',
  'unauthorized',
  'insufficient-funds',
  'bad-source-range',
  'bad-source-coverage',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];
