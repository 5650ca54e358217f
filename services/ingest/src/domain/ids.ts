// Transaction ids. Every transaction ingest produces carries one, so that a retried request names the
// same transactions and the chain (which skips ids it already holds) never records one twice.
import { createHash } from 'node:crypto';
import { TRANSACTION_ID_MAX_LENGTH, TRANSACTION_ID_PATTERN } from '@chainlog/core/protocol';

const TRANSACTION_ID = new RegExp(TRANSACTION_ID_PATTERN);

/** Hex digits of the sender tag: 64 bits, far beyond guessing a sender whose tag collides with another's. */
const SENDER_TAG_LENGTH = 16;
/** Longest sender an id is derived for (an account id): only its tag's length matters here. */
const TAG_SUFFIX_LENGTH = 1 + SENDER_TAG_LENGTH;
/** Longest Idempotency-Key (of a single transaction; a batch's index makes the limit smaller). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = TRANSACTION_ID_MAX_LENGTH - TAG_SUFFIX_LENGTH;

export function isTransactionId(value: string): boolean {
  return value.length >= 1 && value.length <= TRANSACTION_ID_MAX_LENGTH && TRANSACTION_ID.test(value);
}

/**
 * The id derived from an Idempotency-Key, scoped to the transaction's sender: `<key>.<tag>` for one
 * transaction, `<key>-<index>.<tag>` in a batch, where tag is the first 16 hex digits of
 * SHA-256("chainlog-idempotency" 0 sender 0 key). Another sender using the same key gets other ids, so no
 * client can take (squat) the ids of another's retries.
 */
export function idFromKey(key: string, index: number | undefined, sender: string): string {
  const tag = createHash('sha256').update(`chainlog-idempotency\0${sender}\0${key}`).digest('hex').slice(0, SENDER_TAG_LENGTH);
  return `${index === undefined ? key : `${key}-${index}`}.${tag}`;
}

/**
 * Why an Idempotency-Key cannot be used, or undefined when it can: it must be in the transaction id
 * charset and every id derived from it (`<key>-<batchSize - 1>` is the longest) must be a valid id.
 */
export function idempotencyKeyProblem(key: string, batchSize: number | undefined): string | undefined {
  if (!TRANSACTION_ID.test(key)) return 'must consist of the characters A-Z a-z 0-9 . _ -';
  const longest = batchSize === undefined ? key : `${key}-${Math.max(0, batchSize - 1)}`;
  const limit = IDEMPOTENCY_KEY_MAX_LENGTH;
  if (longest.length > limit) {
    return batchSize === undefined
      ? `must be at most ${limit} characters long (ids derived from it add a ${TAG_SUFFIX_LENGTH}-character sender tag)`
      : `is too long: the derived id "${longest}.<sender tag>" exceeds ${TRANSACTION_ID_MAX_LENGTH} characters`;
  }
  return undefined;
}

/**
 * The id of each transaction: the client's own id if given, else one derived from the Idempotency-Key,
 * else a fresh random one. The key must have passed idempotencyKeyProblem.
 */
export function assignIds(
  transactions: readonly { readonly id?: string | undefined; readonly from: string }[],
  options: { batch: boolean; idempotencyKey: string | undefined; newId: () => string },
): AssignedId[] {
  return transactions.map(({ id, from }, index) => {
    if (id !== undefined) return { id, origin: 'client' };
    if (options.idempotencyKey !== undefined) return { id: idFromKey(options.idempotencyKey, options.batch ? index : undefined, from), origin: 'key' };
    return { id: options.newId(), origin: 'random' };
  });
}

/** Where an id came from: the client's `id`, the Idempotency-Key, or ingest's random generator. */
export interface AssignedId {
  id: string;
  origin: 'client' | 'key' | 'random';
}
