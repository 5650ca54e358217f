// What a client submits to POST /v1/transactions, checked and completed without any I/O: the body is
// decoded, every transaction validated by the protocol (the same rules as TRANSACTION_INPUT_SCHEMA),
// signatures verified, and every transaction given an id and a timestamp.
import { hash } from 'node:crypto';
import {
  authorizationProblem,
  canonicalTransactionJson,
  type LedgerParams,
  parseStrictJson,
  parseTransactionInput,
  type Result,
  transactionSigningJson,
  type TransactionInput,
  verifyTransactionSignature,
} from '@chainlog/core/protocol';
import { assignIds, idempotencyKeyProblem, type AssignedId } from './ids.js';
import { fieldRejection, type Rejection } from './rejection.js';

/** A transaction as ingest produces it: always with id and timestamp. */
export interface IngestTransaction extends TransactionInput {
  readonly id: string;
  readonly timestamp: number;
}

export interface Submission {
  /** The body was an array (the response is then a list, too). */
  readonly batch: boolean;
  readonly transactions: readonly IngestTransaction[];
  /** Per transaction: where its id came from, and the digest of what the client sent (idempotency.ts). */
  readonly origins: readonly AssignedId['origin'][];
  readonly digests: readonly string[];
}

export interface SubmissionRules {
  readonly maxBatchSize: number;
  readonly requireTransactionSignatures: boolean;
  /**
   * The consensus replay window (docs/protocol.md §2.5) and how far from ingest's clock a client timestamp may
   * be (TIMESTAMP_TOLERANCE_MS, default W/4): one further away is refused, since a block taking the transaction
   * later would likely refuse it as out-of-window. The rest of W is the time it may wait to be mined (ingest's
   * backlog check keeps that under MINING_BACKLOG_LIMIT_MS, W/2) plus a margin ("Choosing W").
   */
  readonly replayWindowMs?: number | undefined;
  readonly timestampToleranceMs?: number | undefined;
  /**
   * The ledger rules (docs/protocol.md §4.4), when on: a transaction not signed by a key bound to its sender
   * is refused (403 unauthorized), as every block refuses it. The protocol's own rule decides.
   */
  readonly ledger?: LedgerParams | undefined;
}

export interface SubmissionContext {
  /** The Idempotency-Key header, if sent. */
  readonly idempotencyKey?: string | undefined;
  /** Ingest's clock (ms since the epoch), the timestamp of transactions that carry none. */
  readonly now: number;
  /** A fresh random transaction id. */
  readonly newId: () => string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes the raw body as strict UTF-8 JSON (the protocol's strict-json rules). */
export function decodeBody(bytes: Uint8Array | undefined): Result<unknown, Rejection> {
  const malformed = (problem: string): Result<unknown, Rejection> => ({
    ok: false,
    error: { status: 400, code: 'malformed-json', reason: 'malformed-json', message: `request body ${problem}`, field: '$', problem },
  });
  if (bytes === undefined || bytes.length === 0) return malformed('is empty');
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return malformed('is not valid UTF-8');
  }
  // The protocol's strict JSON, as every miner decodes a record: no byte-order mark, no duplicate keys, and a
  // number whose text is not an integer is no integer (never rounded: 2.9999999999999999 is not 3).
  const parsed = parseStrictJson(text);
  return parsed.ok ? { ok: true, value: parsed.value } : malformed(parsed.problem);
}

/** Validates one transaction or a batch and completes ids and timestamps. A batch is all or nothing. */
export function prepareSubmission(body: unknown, rules: SubmissionRules, context: SubmissionContext): Result<Submission, Rejection> {
  const batch = Array.isArray(body);
  if (!batch && (typeof body !== 'object' || body === null)) {
    const problem = 'must be a transaction object or an array of them';
    return reject({ status: 400, code: 'invalid-transaction', reason: 'invalid-field', message: `request body ${problem}`, field: '$', problem });
  }
  const items: unknown[] = batch ? body : [body];
  if (items.length === 0) {
    const problem = 'must contain at least one transaction';
    return reject({ status: 400, code: 'empty-batch', reason: 'empty-batch', message: `batch ${problem}`, field: '$', problem });
  }
  if (items.length > rules.maxBatchSize) {
    const problem = `has ${items.length} transactions, more than the ${rules.maxBatchSize} allowed per request`;
    return reject({ status: 413, code: 'batch-too-large', reason: 'batch-too-large', message: `batch ${problem}`, field: '$', problem });
  }
  if (context.idempotencyKey !== undefined) {
    const problem = idempotencyKeyProblem(context.idempotencyKey, batch ? items.length : undefined);
    if (problem !== undefined) {
      return reject({
        status: 400,
        code: 'invalid-idempotency-key',
        reason: 'invalid-idempotency-key',
        message: `Idempotency-Key ${problem}`,
        field: 'Idempotency-Key',
        problem,
      });
    }
  }

  const inputs: TransactionInput[] = [];
  for (const [position, item] of items.entries()) {
    const index = batch ? position : undefined;
    const parsed = parseTransactionInput(item);
    if (!parsed.ok) return reject(fieldRejection('invalid-field', 'invalid-transaction', parsed.error.field, parsed.error.problem, index));
    const input = parsed.value;
    if (input.signature !== undefined) {
      if (!verifyTransactionSignature(input)) {
        return reject(
          fieldRejection(
            'bad-signature',
            'invalid-signature',
            'signature',
            'does not verify: it must be the Ed25519 signature by publicKey over the canonical JSON of the transaction without signature',
            index,
          ),
        );
      }
    } else if (rules.requireTransactionSignatures) {
      return reject(
        fieldRejection('missing-signature', 'signature-required', 'signature', 'is required: this ledger accepts only signed transactions', index),
      );
    }
    const unauthorized = rules.ledger === undefined ? undefined : authorizationProblem(input, rules.ledger);
    if (unauthorized !== undefined) return reject(fieldRejection('unauthorized', 'unauthorized', '$', unauthorized, index, 403));
    const timestampProblem = windowTimestampProblem(input.timestamp, context.now, rules);
    if (timestampProblem !== undefined) return reject(fieldRejection('timestamp-out-of-window', 'timestamp-out-of-window', 'timestamp', timestampProblem, index));
    inputs.push(input);
  }

  const assigned = assignIds(inputs, { batch, idempotencyKey: context.idempotencyKey, newId: context.newId });
  const ids = assigned.map(({ id }) => id);
  const firstIndexOf = new Map<string, number>();
  for (const [position, id] of ids.entries()) {
    const earlier = firstIndexOf.get(id);
    if (earlier !== undefined) {
      return reject(fieldRejection('duplicate-id', 'invalid-transaction', 'id', `"${id}" duplicates the id of transaction [${earlier}]`, position));
    }
    firstIndexOf.set(id, position);
  }

  const transactions = inputs.map((input, position) => complete(input, ids[position] as string, context.now));
  return {
    ok: true,
    value: { batch, transactions, origins: assigned.map(({ origin }) => origin), digests: inputs.map(inputDigest) },
  };
}

/** What the client sent for one transaction, as a digest: two requests with the same content have the same digests. */
function inputDigest(input: TransactionInput): string {
  // The canonical JSON without the signature, then the signature: field order and spacing do not matter.
  // One-shot over the same bytes (a Hash object per transaction cost as much as validating it).
  return hash('sha256', `${transactionSigningJson(input)}\0${input.signature ?? ''}`, 'base64url');
}

/** Why a client timestamp is too far from ingest's clock for the replay window, or undefined. */
export function windowTimestampProblem(timestamp: number | undefined, now: number, rules: Pick<SubmissionRules, 'replayWindowMs' | 'timestampToleranceMs'>): string | undefined {
  const window = rules.replayWindowMs;
  if (window === undefined || timestamp === undefined) return undefined;
  const tolerance = rules.timestampToleranceMs ?? window / 4;
  const off = timestamp - now;
  if (Math.abs(off) <= tolerance) return undefined;
  const how = off < 0 ? `is ${-off} ms older than` : `is ${off} ms ahead of`;
  return (
    `${how} ingest's clock (${now}), more than the ${tolerance} ms allowed with a replay window of ${window} ms: ` +
    'a block would likely refuse it as out-of-window. Sign it again with the current time (check the client clock)'
  );
}

function reject<T>(rejection: Rejection): Result<T, Rejection> {
  return { ok: false, error: rejection };
}

/** Adds the id and, when missing, the timestamp. Signed transactions already carry both (the protocol requires it). */
function complete(input: TransactionInput, id: string, now: number): IngestTransaction {
  const completed: IngestTransaction = {
    id,
    from: input.from,
    to: input.to,
    amount: input.amount,
    timestamp: input.timestamp ?? now,
  };
  return input.publicKey === undefined ? completed : { ...completed, publicKey: input.publicKey, signature: input.signature };
}

/**
 * The message value: the transaction's canonical JSON (RFC 8785), which is byte for byte how a block
 * stores it (every ingest transaction has its id and timestamp). Every reader checking a block's source
 * coverage (docs/protocol.md §3.7) then compares the record's bytes with the block's transaction instead
 * of decoding the record.
 */
export function messageValue(transaction: IngestTransaction): string {
  return canonicalTransactionJson(transaction);
}
