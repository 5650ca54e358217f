/**
 * Admission: what becomes of one record of the transactions topic. Every miner and every reader decides
 * it with this one function, so a block's source ranges can be checked against the topic (§3.7 of
 * docs/protocol.md): each visible record in a claimed range is either the block's next transaction, byte
 * for byte, or listed in the range's `skipped` with exactly the reason computed here.
 *
 * This part depends on the record alone. The reasons that depend on the chain or the block (`out-of-window`,
 * `duplicate`, and in permissioned mode `unauthorized` and `insufficient-funds`) are decided by the block
 * rules in block order.
 */
import { isSafeNonNegativeInteger, type SourcePosition } from './identifiers.js';
import type { ConsensusParams } from './consensus.js';
import type { Result } from './result.js';
import { decodeTransactionInput, toTransaction, verifyTransactionSignature, type Transaction } from './transaction.js';
import { CURRENT_RULES, type VersionRules } from './version.js';

/** Why a record of a claimed range is not one of the block's transactions, in the order they are checked. */
export const SKIP_REASONS = [
  'empty',
  'malformed',
  'no-timestamp',
  'bad-signature',
  'unsigned',
  'unauthorized',
  'out-of-window',
  'duplicate',
  'insufficient-funds',
] as const;

export type SkipReason = (typeof SKIP_REASONS)[number];

const SKIP_REASON_SET: ReadonlySet<string> = new Set(SKIP_REASONS);

export function isSkipReason(value: unknown): value is SkipReason {
  return typeof value === 'string' && SKIP_REASON_SET.has(value);
}

/** One visible record of a transactions-topic partition, as a Kafka consumer reads it. */
export interface SourceRecord {
  readonly offset: number;
  /** The record value; null for a record without one (a tombstone). */
  readonly value: Uint8Array | null;
  /** The Kafka record timestamp (ms since the epoch); negative when the record has none. */
  readonly timestamp: number;
}

/** Why a record is not a transaction of the block: the reason every reader computes, and what it is in words. */
export interface Skip {
  readonly reason: SkipReason;
  readonly detail: string;
}

/** The stored transaction a record carries, or why it carries none. */
export type Admission = Result<Transaction, Skip>;

/**
 * The stored transaction a record carries, or why it carries none, from the record alone: `empty` (null
 * or zero-length value), `malformed` (not a valid transaction input, §2.1), `no-timestamp` (no timestamp
 * in the input and none on the record), `bad-signature`, `unsigned` (signatures required). `rules`: those
 * of the block's protocol version (version.ts); a miner admits with the current ones.
 */
export function admitRecord(
  record: SourceRecord,
  position: Pick<SourcePosition, 'topic' | 'partition'>,
  params: Pick<ConsensusParams, 'requireTransactionSignatures'>,
  rules: VersionRules = CURRENT_RULES,
): Admission {
  const carried = recordTransaction(record, position, rules);
  if (!carried.ok) return carried;
  const transaction = carried.value;
  if (transaction.signature !== undefined) {
    if (!verifyTransactionSignature(transaction, rules)) return refuse('bad-signature', 'the signature does not verify against publicKey');
  } else if (params.requireTransactionSignatures === true) {
    return refuse('unsigned', 'the chain requires signed transactions');
  }
  return carried;
}

/**
 * The stored transaction a record carries, signature not verified: readers compare it with the block's
 * transaction, whose signature the block rules verify already.
 */
export function recordTransaction(
  record: SourceRecord,
  position: Pick<SourcePosition, 'topic' | 'partition'>,
  rules: Pick<VersionRules, 'strictRecords'> = CURRENT_RULES,
): Admission {
  const { value } = record;
  if (value === null || value.length === 0) return refuse('empty', 'the record has no value');
  const decoded = decodeTransactionInput(value, rules);
  if (!decoded.ok) return refuse('malformed', `${decoded.error.field} ${decoded.error.problem}`);
  if (decoded.value.timestamp === undefined && !isSafeNonNegativeInteger(record.timestamp)) {
    return refuse('no-timestamp', 'the transaction has no timestamp and the record has none either');
  }
  const transaction = toTransaction(decoded.value, {
    ...position,
    offset: record.offset,
    timestamp: isSafeNonNegativeInteger(record.timestamp) ? record.timestamp : 0,
  });
  return { ok: true, value: transaction };
}

function refuse(reason: SkipReason, detail: string): Admission {
  return { ok: false, error: { reason, detail } };
}
