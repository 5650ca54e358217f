/**
 * What a transactions-topic message is to the miner: a transaction it may put in a block, or poison.
 * Pure. Poison is anything a block must not carry, decided here once so that one bad message can never
 * make every candidate block invalid and stall its partition:
 *
 * - no value, not UTF-8 JSON, or not a valid transaction (the protocol's decodeTransactionInput);
 * - a signature that does not verify (the chain would reject the block as bad-transaction);
 * - no signature while the consensus parameters require one (REQUIRE_TRANSACTION_SIGNATURES).
 *
 * A valid message becomes the stored form: a missing id is derived from the source position and a
 * missing timestamp is the Kafka record timestamp (the protocol's toTransaction).
 */
import { type ConsensusParams, decodeTransactionInput, type Result, type SourcePosition, toTransaction, type Transaction, verifyTransactionSignature } from '@chainlog/core/protocol';

/** The transaction to pend, or why the message is poison. */
export type Intake = Result<Transaction, string>;

export function intakeMessage(value: Uint8Array | null, source: SourcePosition, consensus: Pick<ConsensusParams, 'requireTransactionSignatures'>): Intake {
  if (value === null) return { ok: false, error: 'the message has no value' };
  const decoded = decodeTransactionInput(value);
  if (!decoded.ok) return { ok: false, error: `${decoded.error.field} ${decoded.error.problem}` };
  let transaction: Transaction;
  try {
    transaction = toTransaction(decoded.value, source);
  } catch (error) {
    return { ok: false, error: `unusable record position or timestamp: ${(error as Error).message}` };
  }
  if (transaction.signature !== undefined) {
    if (!verifyTransactionSignature(transaction)) return { ok: false, error: 'signature does not verify against publicKey' };
  } else if (consensus.requireTransactionSignatures === true) {
    return { ok: false, error: 'not signed, and the chain requires signed transactions' };
  }
  return { ok: true, value: transaction };
}
