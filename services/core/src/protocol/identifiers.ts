/**
 * Account ids and transaction ids: their character sets and the ids the protocol derives itself.
 *
 * Ids the protocol derives (`tx:<topic>:<partition>:<offset>` and `coinbase:<index>`) contain a colon,
 * which user-chosen transaction ids may not. Without that separation a client could submit a
 * transaction with id `coinbase:42` and make every candidate for block 42 a duplicate, halting the chain.
 */

/** Accounts (`from`, `to`): 1..64 characters from this set. */
export const ACCOUNT_ID_PATTERN = '^[A-Za-z0-9._:@-]+$';
export const ACCOUNT_ID_MAX_LENGTH = 64;

/** The sender of coinbase (block reward) transactions; no user transaction may send from it. */
export const COINBASE_SENDER = '0';

/** User-chosen transaction ids: 1..128 characters from this set (no colon, see above). */
export const TRANSACTION_ID_PATTERN = '^[A-Za-z0-9._-]+$';
export const TRANSACTION_ID_MAX_LENGTH = 128;

/** Kafka topic names: the broker's own rule (1..249 of these characters, and neither `.` nor `..`). */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const DERIVED_ID = /^tx:([A-Za-z0-9._-]{1,249}):(0|[1-9][0-9]{0,9}):(0|[1-9][0-9]{0,15})$/;
const COINBASE_ID = /^coinbase:(?:0|[1-9][0-9]*)$/;
const ACCOUNT_ID = new RegExp(ACCOUNT_ID_PATTERN);
const TRANSACTION_ID = new RegExp(TRANSACTION_ID_PATTERN);

/** Where a transaction message was read: its Kafka coordinates and record timestamp (ms since epoch). */
export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

export function isAccountId(value: string): boolean {
  return value.length >= 1 && value.length <= ACCOUNT_ID_MAX_LENGTH && ACCOUNT_ID.test(value);
}

export function isUserTransactionId(value: string): boolean {
  return value.length >= 1 && value.length <= TRANSACTION_ID_MAX_LENGTH && TRANSACTION_ID.test(value);
}

export function isTopicName(value: string): boolean {
  return TOPIC_NAME.test(value) && value !== '.' && value !== '..';
}

/**
 * The id of a transaction that did not carry one: its position in the transactions topic. Redelivery of a
 * message yields the same id (and so is a duplicate), while identical messages at different offsets are
 * distinct transactions, which is what publishing `{"from":"alice","to":"bob","amount":3}` three times means.
 */
export function derivedTransactionId(topic: string, partition: number, offset: number): string {
  return `tx:${topic}:${partition}:${offset}`;
}

/** The position a derived id names, or undefined when `value` is not a derived id (isDerivedTransactionId). */
export function derivedIdPosition(value: string): { readonly topic: string; readonly partition: number; readonly offset: number } | undefined {
  if (!isDerivedTransactionId(value)) return undefined;
  const [, topic = '', partition = '', offset = ''] = DERIVED_ID.exec(value) as RegExpExecArray;
  return { topic, partition: Number(partition), offset: Number(offset) };
}

/** A derived id names a position Kafka can have: a topic name, a partition 0..2^31-1, a safe offset. */
export function isDerivedTransactionId(value: string): boolean {
  const match = DERIVED_ID.exec(value);
  if (match === null) return false;
  const [, topic = '', partition = '', offset = ''] = match;
  return isTopicName(topic) && Number(partition) <= MAX_PARTITION && Number(offset) <= Number.MAX_SAFE_INTEGER;
}

export function coinbaseTransactionId(blockIndex: number): string {
  return `coinbase:${blockIndex}`;
}

export function isCoinbaseTransactionId(value: string): boolean {
  return COINBASE_ID.test(value);
}

export function isSafeNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Kafka partitions are int32. */
export const MAX_PARTITION = 2 ** 31 - 1;
