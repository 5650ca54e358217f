/**
 * Transactions: the input forms accepted from clients and the transactions topic, and the complete form
 * stored in blocks.
 *
 * - minimal input, as published with kcat in the original article: `{"from":"alice","to":"bob","amount":3}`
 * - full input: adds `id`, `timestamp` and optionally `publicKey` + `signature`
 * - stored: always has `id` and `timestamp`; missing ones are derived from the message's source position
 */
import { canonicalJson, isPlainObject, parseJsonBytes, parseStrictJsonBytes, sha256 } from './encoding.js';
import {
  ACCOUNT_ID_MAX_LENGTH,
  COINBASE_SENDER,
  derivedTransactionId,
  isAccountId,
  isCoinbaseTransactionId,
  isDerivedTransactionId,
  isSafeNonNegativeInteger,
  isTopicName,
  isUserTransactionId,
  MAX_PARTITION,
  TRANSACTION_ID_MAX_LENGTH,
  type SourcePosition,
} from './identifiers.js';
import { fail, fieldPath, ok, type Result } from './result.js';
import { PUBLIC_KEY_HEX_PATTERN, SIGNATURE_HEX_PATTERN, verifySignature, type Signer } from './signatures.js';
import { CURRENT_RULES, type VersionRules } from './version.js';

export interface TransactionInput {
  readonly id?: string;
  readonly from: string;
  readonly to: string;
  /** Positive integer number of minor units. */
  readonly amount: number;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp?: number;
  readonly publicKey?: string;
  readonly signature?: string;
}

export interface Transaction {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly timestamp: number;
  readonly publicKey?: string;
  readonly signature?: string;
}

const FIELDS = ['id', 'from', 'to', 'amount', 'timestamp', 'publicKey', 'signature'] as const;
type FieldName = (typeof FIELDS)[number];
const KNOWN_FIELDS: ReadonlySet<string> = new Set(FIELDS);
const PUBLIC_KEY = new RegExp(PUBLIC_KEY_HEX_PATTERN);
const SIGNATURE = new RegExp(SIGNATURE_HEX_PATTERN);

/** Which ids and senders a form allows; everything else is shared. */
interface Form {
  readonly required: readonly FieldName[];
  readonly idProblem: (id: string) => string | undefined;
  readonly senderProblem: (from: string) => string | undefined;
}

const INPUT_FORM: Form = {
  required: ['from', 'to', 'amount'],
  idProblem: (id) =>
    isUserTransactionId(id)
      ? undefined
      : `must be 1..${TRANSACTION_ID_MAX_LENGTH} characters from A-Z a-z 0-9 . _ -`,
  senderProblem: (from) =>
    from === COINBASE_SENDER ? `must not be "${COINBASE_SENDER}", which is reserved for block rewards` : undefined,
};

// Block rules decide where coinbase ids and the coinbase sender may appear; structurally they are valid.
const STORED_FORM: Form = {
  required: ['id', 'from', 'to', 'amount', 'timestamp'],
  idProblem: (id) =>
    isUserTransactionId(id) || isDerivedTransactionId(id) || isCoinbaseTransactionId(id)
      ? undefined
      : 'must be a user id, a derived id (tx:<topic>:<partition>:<offset>) or a coinbase id (coinbase:<index>)',
  senderProblem: () => undefined,
};

/**
 * Validates a transaction as sent by a client (HTTP body or transactions-topic message, already parsed
 * from JSON). Agrees exactly with TRANSACTION_INPUT_SCHEMA. Does not check signatures (see
 * verifyTransactionSignature): a schema cannot, and the HTTP edge wants both answers separately.
 */
export function parseTransactionInput(value: unknown, path = '$'): Result<TransactionInput> {
  return parseForm(value, path, INPUT_FORM);
}

/** Validates a transaction in the stored form (as it appears inside blocks). */
export function parseTransaction(value: unknown, path = '$'): Result<Transaction> {
  return parseForm(value, path, STORED_FORM) as Result<Transaction>;
}

/**
 * Decodes a transactions-topic message value (UTF-8 JSON). Never throws. Strict JSON (strict-json.ts: no
 * byte-order mark, no duplicate keys, exact integers) unless `rules` are those of a version-1 block.
 */
export function decodeTransactionInput(
  bytes: Uint8Array,
  rules: Pick<VersionRules, 'strictRecords'> = CURRENT_RULES,
): Result<TransactionInput> {
  const parsed = rules.strictRecords ? parseStrictJsonBytes(bytes) : parseJsonBytes(bytes);
  return parsed.ok ? parseTransactionInput(parsed.value) : fail('$', parsed.problem);
}

function parseForm(value: unknown, path: string, form: Form): Result<TransactionInput> {
  if (!isPlainObject(value)) return fail(path, 'must be a JSON object');
  const keys = Object.keys(value);
  if (!keys.every((key) => KNOWN_FIELDS.has(key))) {
    // The first unknown key in sorted order, so the message does not depend on the key order.
    const unknown = keys.filter((key) => !KNOWN_FIELDS.has(key)).sort()[0] as string;
    return fail(fieldPath(path, unknown), 'is not a known field');
  }
  for (const key of form.required) {
    if (value[key] === undefined) return fail(fieldPath(path, key), 'is required');
  }
  for (const key of FIELDS) {
    if (value[key] === undefined) continue;
    const problem = fieldProblem(key, value[key], form);
    if (problem !== undefined) return fail(fieldPath(path, key), problem);
  }
  // A signature covers id and timestamp, so a signed transaction cannot have them filled in later.
  if (value.signature !== undefined) {
    for (const key of ['publicKey', 'id', 'timestamp'] as const) {
      if (value[key] === undefined) return fail(fieldPath(path, key), 'is required when signature is present');
    }
  }
  if (value.publicKey !== undefined && value.signature === undefined) {
    return fail(fieldPath(path, 'signature'), 'is required when publicKey is present');
  }
  return ok(pickFields(value) as unknown as TransactionInput);
}

function fieldProblem(key: FieldName, value: unknown, form: Form): string | undefined {
  switch (key) {
    case 'id':
      return typeof value === 'string' ? form.idProblem(value) : 'must be a string';
    case 'from':
    case 'to':
      if (typeof value !== 'string') return 'must be a string';
      if (!isAccountId(value)) return `must be 1..${ACCOUNT_ID_MAX_LENGTH} characters from A-Z a-z 0-9 . _ : @ -`;
      return key === 'from' ? form.senderProblem(value) : undefined;
    case 'amount':
      if (typeof value !== 'number') return 'must be a number';
      if (!Number.isInteger(value)) return 'must be an integer number of minor units';
      if (value < 1) return 'must be at least 1';
      return value > Number.MAX_SAFE_INTEGER ? `must be at most ${Number.MAX_SAFE_INTEGER}` : undefined;
    case 'timestamp':
      if (typeof value !== 'number') return 'must be a number';
      return isSafeNonNegativeInteger(value)
        ? undefined
        : `must be an integer number of milliseconds since the epoch, 0..${Number.MAX_SAFE_INTEGER}`;
    case 'publicKey':
      return typeof value === 'string' && PUBLIC_KEY.test(value)
        ? undefined
        : 'must be a raw Ed25519 public key as 64 lowercase hex digits';
    case 'signature':
      return typeof value === 'string' && SIGNATURE.test(value)
        ? undefined
        : 'must be an Ed25519 signature as 128 lowercase hex digits';
  }
}

/** Copies only the known fields, so no other property of the parsed object leaks into hashes. */
function pickFields(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of FIELDS) if (value[key] !== undefined) copy[key] = value[key];
  return copy;
}

/**
 * The id of a transaction read from the transactions topic: its own, or the one derived from where it was
 * read (a minimal-form message has none). The one place this is decided, for the miner (toTransaction)
 * and for every reader that tracks transactions before they are mined.
 */
export function transactionIdOf(input: TransactionInput, source: Pick<SourcePosition, 'topic' | 'partition' | 'offset'>): string {
  return input.id ?? derivedTransactionId(source.topic, source.partition, source.offset);
}

/**
 * The stored form of a transaction read from the transactions topic: a missing id becomes the source
 * position's derived id and a missing timestamp the Kafka record timestamp. Throws on an impossible source
 * position (a caller bug, not bad input).
 */
export function toTransaction(input: TransactionInput, source: SourcePosition): Transaction {
  if (
    !isTopicName(source.topic) ||
    !isSafeNonNegativeInteger(source.partition) ||
    source.partition > MAX_PARTITION ||
    !isSafeNonNegativeInteger(source.offset) ||
    !isSafeNonNegativeInteger(source.timestamp)
  ) {
    throw new RangeError(`invalid source position ${JSON.stringify(source)}`);
  }
  return pickFields({
    ...input,
    id: transactionIdOf(input, source),
    timestamp: input.timestamp ?? source.timestamp,
  }) as unknown as Transaction;
}

/** SHA-256 of the canonical JSON of the stored transaction, signature included: the Merkle tree's input. */
export function transactionHash(transaction: Transaction): Buffer {
  return transactionHashOfJson(canonicalTransactionJson(transaction));
}

/** The transaction hash of a transaction given as its canonical JSON (canonicalTransactionJson). */
export function transactionHashOfJson(canonicalJson: string): Buffer {
  // Hashed as a string (UTF-8, by node:crypto itself): no Buffer per transaction, a quarter less time and
  // garbage in the Merkle root every reader computes over every transaction.
  return sha256(canonicalJson);
}

// Printable ASCII but `"` and `\`: JSON.stringify (and so RFC 8785) writes such a string as is, in quotes.
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * The RFC 8785 canonical JSON of a transaction, as canonicalJson() gives it, without the generic
 * library's per-value work: the fields a transaction may have are written in their canonical (sorted)
 * order. Replaying the chain hashes every transaction, and the generic canonicalizer measured about a
 * third of a replay's CPU time (bench/replay.ts, docs/benchmarks.md). Anything unusual (another field, a
 * value of another type, a string needing escapes) takes the generic path, so the result is identical.
 */
export function canonicalTransactionJson(transaction: TransactionInput): string {
  return plainTransactionJson(transaction as unknown as Record<string, unknown>) ?? canonicalJson(transaction);
}

/** Keys in RFC 8785 order (UTF-16 code units). */
const CANONICAL_FIELD_ORDER = ['amount', 'from', 'id', 'publicKey', 'signature', 'timestamp', 'to'] as const;

function plainTransactionJson(value: Record<string, unknown>): string | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  // Own enumerable keys only (the prototype is Object.prototype), each a known field.
  for (const key in value) if (!KNOWN_FIELDS.has(key)) return undefined;
  let json = '{';
  for (const key of CANONICAL_FIELD_ORDER) {
    const field = value[key];
    if (field === undefined) continue;
    let text: string;
    if (typeof field === 'string') {
      if (!PLAIN_STRING.test(field)) return undefined;
      text = `"${field}"`;
    } else if (typeof field === 'number' && Number.isFinite(field)) {
      text = String(field);
    } else {
      return undefined;
    }
    json += `${json.length === 1 ? '' : ','}"${key}":${text}`;
  }
  return `${json}}`;
}

/** The bytes a transaction signature covers: canonical JSON of the transaction without `signature`. */
export function transactionSigningBytes(transaction: TransactionInput): Buffer {
  return Buffer.from(transactionSigningJson(transaction), 'utf8');
}

/** transactionSigningBytes as text (printable ASCII but for odd strings, which the generic path escapes). */
export function transactionSigningJson(transaction: TransactionInput): string {
  const unsigned = pickFields({ ...transaction });
  delete unsigned.signature;
  // The transaction writer, not the generic canonicalizer: the same text, and ingest computes it for every
  // transaction it takes (its idempotency digest), signers and verifiers for every signature.
  return canonicalTransactionJson(unsigned as unknown as TransactionInput);
}

/** Adds publicKey and signature. The transaction needs its id and timestamp, which the signature covers. */
export function signTransaction<T extends TransactionInput>(transaction: T, signer: Signer): T {
  if (transaction.id === undefined || transaction.timestamp === undefined) {
    throw new TypeError('a signed transaction needs its id and timestamp');
  }
  const publicKey = signer.publicKey;
  const signature = signer.sign(transactionSigningBytes({ ...transaction, publicKey }));
  return { ...transaction, publicKey, signature };
}

/**
 * True when the transaction carries a signature by its publicKey over its signing bytes; strict Ed25519
 * (signatures.ts) unless `rules` are those of a version-1 block.
 */
export function verifyTransactionSignature(
  transaction: TransactionInput,
  rules: Pick<VersionRules, 'strictSignatures'> = CURRENT_RULES,
): boolean {
  if (transaction.publicKey === undefined || transaction.signature === undefined) return false;
  return verifySignature(transaction.publicKey, transactionSigningBytes(transaction), transaction.signature, rules.strictSignatures);
}
