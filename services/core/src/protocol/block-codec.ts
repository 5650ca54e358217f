/**
 * Blocks on the wire: the UTF-8 bytes of the block's RFC 8785 canonical JSON. Decoding accepts only that
 * exact encoding, so every block has one byte representation and a changed byte always changes the value
 * (which the hashes then catch): no whitespace, duplicate keys, escapes or number spellings can slip by.
 */
import { isSkipReason, SKIP_REASONS } from './admission.js';
import { blockHeader, type Block, type SkippedRecord, type SourceRange } from './block.js';
import { canonicalJson, HASH_HEX_PATTERN, isPlainObject, parseJsonBytes } from './encoding.js';
import { isAccountId, isTopicName, MAX_PARTITION } from './identifiers.js';
import { MAX_DIFFICULTY, MAX_NONCE } from './proof-of-work.js';
import { fieldPath, type FieldError, type Result } from './result.js';
import { PUBLIC_KEY_HEX_PATTERN, SIGNATURE_HEX_PATTERN } from './signatures.js';
import { canonicalTransactionJson, parseTransaction, type Transaction } from './transaction.js';
import { CURRENT_PROTOCOL_VERSION } from './version.js';

const PUBLIC_KEY = new RegExp(PUBLIC_KEY_HEX_PATTERN);
const SIGNATURE = new RegExp(SIGNATURE_HEX_PATTERN);
const BLOCK_FIELDS: ReadonlySet<string> = new Set([
  'index',
  'timestamp',
  'previousHash',
  'merkleRoot',
  'transactions',
  'miner',
  'difficulty',
  'nonce',
  'sources',
  'minerPublicKey',
  'signature',
  'hash',
  'version',
]);
const SOURCE_FIELDS: ReadonlySet<string> = new Set(['topic', 'partition', 'firstOffset', 'lastOffset', 'skipped']);
const SKIPPED_FIELDS: ReadonlySet<string> = new Set(['offset', 'reason']);

/**
 * Why a message is not a well-formed block, decided in this order (docs/protocol.md §4.3, step 1):
 * `unsupported-version` when it is a JSON object whose `version` is an integer above the versions this
 * reader implements (its format may have changed, so nothing else is judged); otherwise `malformed` when
 * anything but the contents of the `transactions` elements is wrong: UTF-8, JSON, a block or source
 * field, or the bytes not the canonical encoding of the value they parse to; otherwise `bad-transaction`
 * when an element of `transactions` is not a well-formed stored transaction. Every reader reaches the same
 * reason whatever order it checks in, because `malformed` outranks `bad-transaction` as a whole.
 */
export type BlockDecodeReason = 'malformed' | 'unsupported-version' | 'bad-transaction';

export interface BlockDecodeError extends FieldError {
  readonly reason: BlockDecodeReason;
}

function fail<T>(field: string, problem: string, reason: BlockDecodeReason = 'malformed'): Result<T, BlockDecodeError> {
  return { ok: false, error: { reason, field, problem } };
}

/** The bytes published on the blockchain topic. */
export function encodeBlock(block: Block): Buffer {
  return Buffer.from(canonicalWireJson(block), 'utf8');
}

/**
 * canonicalJson(wireForm(block)), with the transactions written by canonicalTransactionJson: `transactions`
 * is the last key in canonical order, so the text is the canonical JSON of the other fields with the
 * transactions array appended. Blocks of thousands of transactions are encoded by every miner and
 * re-encoded by every reader (decodeBlock), and the generic canonicalizer dominated that work.
 */
function canonicalWireJson(block: Block): string {
  const { transactions, ...rest } = wireForm(block);
  if (!Array.isArray(transactions)) return canonicalJson(wireForm(block));
  const items = (transactions as readonly unknown[]).map((transaction) =>
    transaction === undefined || typeof transaction === 'symbol' ? 'null' : canonicalTransactionJson(transaction as Transaction),
  );
  return wireJsonWithTransactions(rest, items);
}

/**
 * The canonical JSON of a block whose transactions are already canonical JSON texts. `transactions` sorts
 * after every field but `version`, which follows it.
 */
function wireJsonWithTransactions(rest: Omit<Block, 'transactions'>, transactionJson: readonly string[]): string {
  const { version, ...fields } = rest;
  const head = canonicalJson(fields);
  const tail = version === undefined ? '' : `,"version":${canonicalJson(version)}`;
  return `${head === '{}' ? '{' : `${head.slice(0, -1)},`}"transactions":[${transactionJson.join(',')}]${tail}}`;
}

/** Decodes and structurally validates a blockchain-topic message. Never throws. */
export function decodeBlock(bytes: Uint8Array): Result<Block, BlockDecodeError> {
  const decoded = decodeBlockWithTransactionJson(bytes);
  return decoded.ok ? { ok: true, value: decoded.value.block } : decoded;
}

/** A decoded block and the canonical JSON of each of its transactions (canonicalTransactionJson). */
export interface DecodedBlock {
  readonly block: Block;
  readonly transactionJson: readonly string[];
}

/**
 * decodeBlock, also returning the transactions' canonical JSON: checking the encoding produces it, and
 * the Merkle root hashes it, so a reader serialises every transaction once instead of twice.
 */
export function decodeBlockWithTransactionJson(bytes: Uint8Array): Result<DecodedBlock, BlockDecodeError> {
  if (bytes.length === 0) return fail('$', 'is empty (a record without a value)');
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return fail('$', parsed.problem);
  const block = parseBlock(parsed.value);
  if (!block.ok) {
    // malformed outranks bad-transaction: a block whose bytes are not canonical is malformed, whichever
    // of its transactions is also wrong.
    return block.error.reason === 'bad-transaction' && !isCanonicalText(parsed.value, parsed.text)
      ? fail('$', 'is not in canonical form (RFC 8785 JSON, UTF-8, no other fields)')
      : block;
  }
  const { transactions, ...rest } = wireForm(block.value);
  const transactionJson = transactions.map(canonicalTransactionJson);
  if (wireJsonWithTransactions(rest, transactionJson) !== parsed.text) {
    return fail('$', 'is not in canonical form (RFC 8785 JSON, UTF-8, no other fields)');
  }
  return { ok: true, value: { block: block.value, transactionJson } };
}

/**
 * Structurally validates a block given as a JSON value: field presence, types and ranges. Whether it may
 * join the chain (hashes, work, signatures, linkage, …) is the Chain's decision.
 */
export function parseBlock(value: unknown): Result<Block, BlockDecodeError> {
  if (!isPlainObject(value)) return fail('$', 'must be a JSON object');
  const version = versionProblem(value.version);
  if (version !== undefined) return fail('version', version.problem, version.reason);
  for (const key of Object.keys(value).sort()) {
    if (!BLOCK_FIELDS.has(key)) return fail(key, 'is not a known field');
  }
  const problems: ReadonlyArray<[string, string | undefined]> = [
    ['index', integerProblem(value.index, Number.MAX_SAFE_INTEGER)],
    ['timestamp', integerProblem(value.timestamp, Number.MAX_SAFE_INTEGER)],
    ['previousHash', hashProblem(value.previousHash)],
    ['merkleRoot', hashProblem(value.merkleRoot)],
    ['miner', accountProblem(value.miner)],
    ['difficulty', integerProblem(value.difficulty, MAX_DIFFICULTY)],
    ['nonce', integerProblem(value.nonce, MAX_NONCE)],
    ['hash', hashProblem(value.hash)],
    ['minerPublicKey', patternProblem(value.minerPublicKey, PUBLIC_KEY, 'a raw Ed25519 public key as 64 lowercase hex digits')],
    ['signature', patternProblem(value.signature, SIGNATURE, 'an Ed25519 signature as 128 lowercase hex digits')],
  ];
  for (const [field, problem] of problems) if (problem !== undefined) return fail(field, problem);
  if ((value.minerPublicKey === undefined) !== (value.signature === undefined)) {
    return fail(value.signature === undefined ? 'signature' : 'minerPublicKey', 'must be present together with the other');
  }
  const sources = parseSources(value.sources);
  if (!sources.ok) return sources;
  const transactions = parseTransactions(value.transactions);
  if (!transactions.ok) return transactions;
  return okBlock({
    ...blockHeader({ ...(value as unknown as Block), sources: sources.value }),
    transactions: transactions.value,
    nonce: value.nonce as number,
    ...(value.signature === undefined ? {} : { signature: value.signature as string }),
    hash: value.hash as string,
  });
}

function okBlock(block: Block): Result<Block, BlockDecodeError> {
  return { ok: true, value: block };
}

/** Whether `text` is exactly the canonical JSON of `value` (any JSON value, validated or not). */
function isCanonicalText(value: unknown, text: string): boolean {
  try {
    return canonicalJson(value) === text;
  } catch {
    return false; // no JSON representation (a number JSON.parse made infinite, a lone surrogate)
  }
}

/** Version 1 is spelled by leaving the field out, so that a block has one encoding. */
function versionProblem(value: unknown): { reason: BlockDecodeReason; problem: string } | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 2) {
    return { reason: 'malformed', problem: 'must be an integer 2 or above (version 1 is written by omitting the field)' };
  }
  return value > CURRENT_PROTOCOL_VERSION
    ? { reason: 'unsupported-version', problem: `is ${value}; this reader implements versions 1..${CURRENT_PROTOCOL_VERSION}` }
    : undefined;
}

function wireForm(block: Block): Block {
  return {
    ...blockHeader(block),
    transactions: block.transactions,
    nonce: block.nonce,
    ...(block.signature === undefined ? {} : { signature: block.signature }),
    hash: block.hash,
  };
}

function integerProblem(value: unknown, max: number): string | undefined {
  if (value === undefined) return 'is required';
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max
    ? undefined
    : `must be an integer 0..${max}`;
}

function hashProblem(value: unknown): string | undefined {
  if (value === undefined) return 'is required';
  return typeof value === 'string' && HASH_HEX_PATTERN.test(value) ? undefined : 'must be 64 lowercase hex digits';
}

function accountProblem(value: unknown): string | undefined {
  if (value === undefined) return 'is required';
  return typeof value === 'string' && isAccountId(value) ? undefined : 'must be an account id';
}

function patternProblem(value: unknown, pattern: RegExp, expected: string): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' && pattern.test(value) ? undefined : `must be ${expected}`;
}

function parseSources(value: unknown): Result<SourceRange[], BlockDecodeError> {
  if (!Array.isArray(value)) return fail('sources', value === undefined ? 'is required' : 'must be an array');
  const sources: SourceRange[] = [];
  for (const [i, item] of value.entries()) {
    const path = fieldPath('sources', i);
    if (!isPlainObject(item)) return fail(path, 'must be an object');
    for (const key of Object.keys(item).sort()) {
      if (!SOURCE_FIELDS.has(key)) return fail(fieldPath(path, key), 'is not a known field');
    }
    if (typeof item.topic !== 'string' || !isTopicName(item.topic)) {
      return fail(fieldPath(path, 'topic'), 'must be a Kafka topic name');
    }
    for (const key of ['partition', 'firstOffset', 'lastOffset'] as const) {
      const problem = integerProblem(item[key], key === 'partition' ? MAX_PARTITION : Number.MAX_SAFE_INTEGER);
      if (problem !== undefined) return fail(fieldPath(path, key), problem);
    }
    if (item.skipped !== undefined) {
      const skipped = parseSkipped(item.skipped, fieldPath(path, 'skipped'));
      if (!skipped.ok) return skipped;
    }
    sources.push(item as unknown as SourceRange);
  }
  return { ok: true, value: sources };
}

function parseSkipped(value: unknown, path: string): Result<SkippedRecord[], BlockDecodeError> {
  if (!Array.isArray(value)) return fail(path, 'must be an array');
  for (const [i, item] of value.entries()) {
    const at = fieldPath(path, i);
    if (!isPlainObject(item)) return fail(at, 'must be an object');
    for (const key of Object.keys(item).sort()) {
      if (!SKIPPED_FIELDS.has(key)) return fail(fieldPath(at, key), 'is not a known field');
    }
    const problem = integerProblem(item.offset, Number.MAX_SAFE_INTEGER);
    if (problem !== undefined) return fail(fieldPath(at, 'offset'), problem);
    if (!isSkipReason(item.reason)) return fail(fieldPath(at, 'reason'), `must be one of ${SKIP_REASONS.join(', ')}`);
  }
  return { ok: true, value: value as SkippedRecord[] };
}

function parseTransactions(value: unknown): Result<Transaction[], BlockDecodeError> {
  if (!Array.isArray(value)) return fail('transactions', value === undefined ? 'is required' : 'must be an array');
  const transactions: Transaction[] = [];
  for (const [i, item] of value.entries()) {
    const transaction = parseTransaction(item, fieldPath('transactions', i));
    if (!transaction.ok) return fail(transaction.error.field, transaction.error.problem, 'bad-transaction');
    transactions.push(transaction.value);
  }
  return { ok: true, value: transactions };
}
