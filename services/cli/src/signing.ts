// Signing what tx send and demo send: a signature covers id and timestamp, so both are fixed here
// (a fresh UUID, the clock) before signing; a transaction that already carries a signature is sent as it is.
import { randomUUID } from 'node:crypto';
import { signTransaction, type Signer, type TransactionInput } from '@chainlog/core/protocol';
import { HttpError } from './http.js';
import { CliError } from './args.js';

export function signForSending(transactions: readonly TransactionInput[], signer: Signer, now: number, newId: () => string = randomUUID): TransactionInput[] {
  return transactions.map((transaction) =>
    transaction.signature !== undefined
      ? transaction
      : signTransaction({ ...transaction, id: transaction.id ?? newId(), timestamp: transaction.timestamp ?? now }, signer),
  );
}

/** Ingest's "signature-required" refusal, explained for the CLI's user. */
export function explainSignatureRequired(error: unknown): unknown {
  if (error instanceof HttpError && error.code === 'signature-required') {
    return new CliError(`${error.message}: sign with --key FILE (or CHAINLOG_KEY_FILE); chainlog key new FILE creates a key`);
  }
  return error;
}
