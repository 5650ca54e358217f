/** Most transaction ids named in one log line (a block or a batch can hold far more); the rest are counted. */
export const LOGGED_IDS_LIMIT = 1000;

/**
 * The log fields that correlate a line with the transactions it is about (docs/observability.md): their
 * ids, capped so that one huge block or batch cannot make a log line of megabytes, and how many were left out.
 */
export function loggedTransactionIds(ids: readonly string[]): { transactionIds: string[]; transactionIdsOmitted?: number } {
  if (ids.length <= LOGGED_IDS_LIMIT) return { transactionIds: [...ids] };
  return { transactionIds: ids.slice(0, LOGGED_IDS_LIMIT), transactionIdsOmitted: ids.length - LOGGED_IDS_LIMIT };
}
