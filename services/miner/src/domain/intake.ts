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
import { admitRecord, type Admission, type ConsensusParams, type SourcePosition } from '@chainlog/core/protocol';

/**
 * The transaction to pend, or why the message is poison (the reason every reader computes: the block lists it
 * in its range's `skipped`). The protocol's admitRecord: the same verdict every reader of the block reaches.
 */
export function intakeMessage(value: Uint8Array | null, source: SourcePosition, consensus: Pick<ConsensusParams, 'requireTransactionSignatures'>): Admission {
  return admitRecord({ offset: source.offset, value, timestamp: source.timestamp }, source, consensus);
}
