// Transaction ids. Every transaction ingest produces carries one, so that a retried request names the
// same transactions and the chain (which skips ids it already holds) never records one twice.
import { TRANSACTION_ID_MAX_LENGTH, TRANSACTION_ID_PATTERN } from '@chainlog/core/protocol';

const TRANSACTION_ID = new RegExp(TRANSACTION_ID_PATTERN);

export function isTransactionId(value: string): boolean {
  return value.length >= 1 && value.length <= TRANSACTION_ID_MAX_LENGTH && TRANSACTION_ID.test(value);
}

/** The id derived from an Idempotency-Key: the key itself for one transaction, `<key>-<index>` in a batch. */
export function idFromKey(key: string, index: number | undefined): string {
  return index === undefined ? key : `${key}-${index}`;
}

/**
 * Why an Idempotency-Key cannot be used, or undefined when it can: it must be in the transaction id
 * charset and every id derived from it (`<key>-<batchSize - 1>` is the longest) must be a valid id.
 */
export function idempotencyKeyProblem(key: string, batchSize: number | undefined): string | undefined {
  if (!TRANSACTION_ID.test(key)) return 'must consist of the characters A-Z a-z 0-9 . _ -';
  const longest = idFromKey(key, batchSize === undefined ? undefined : Math.max(0, batchSize - 1));
  if (longest.length > TRANSACTION_ID_MAX_LENGTH) {
    return batchSize === undefined
      ? `must be at most ${TRANSACTION_ID_MAX_LENGTH} characters long`
      : `is too long: the derived id "${longest}" exceeds ${TRANSACTION_ID_MAX_LENGTH} characters`;
  }
  return undefined;
}

/**
 * The id of each transaction: the client's own id if given, else one derived from the Idempotency-Key,
 * else a fresh random one. The key must have passed idempotencyKeyProblem.
 */
export function assignIds(
  clientIds: readonly (string | undefined)[],
  options: { batch: boolean; idempotencyKey: string | undefined; newId: () => string },
): string[] {
  return clientIds.map((clientId, index) => {
    if (clientId !== undefined) return clientId;
    if (options.idempotencyKey !== undefined) return idFromKey(options.idempotencyKey, options.batch ? index : undefined);
    return options.newId();
  });
}
