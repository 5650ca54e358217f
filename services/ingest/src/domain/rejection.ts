// Why a request was refused: the HTTP status, the error code in the JSON body, and the bounded
// `reason` label of chainlog_ingest_transactions_rejected_total.

export const REJECTION_REASONS = [
  'malformed-json',
  'invalid-field',
  'empty-batch',
  'batch-too-large',
  'body-too-large',
  'unsupported-media-type',
  'unsupported-encoding',
  'invalid-idempotency-key',
  'duplicate-id',
  'idempotency-conflict',
  'request-in-progress',
  'bad-signature',
  'missing-signature',
  'unauthorized',
  'timestamp-out-of-window',
  'overloaded',
  'mining-backlog',
  'rate-limited',
  'shutting-down',
  'kafka-unavailable',
  'bad-request',
  'internal',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface Rejection {
  readonly status: number;
  /** The `error.code` of the JSON body. */
  readonly code: string;
  readonly reason: RejectionReason;
  readonly message: string;
  /** The offending field, relative to the transaction (`amount`), `$` for the whole item or body. */
  readonly field?: string;
  readonly problem?: string;
  /** The item's position, for batches only. */
  readonly index?: number;
}

/** A 4xx naming a field of one transaction; `index` is set for batch items. */
export function fieldRejection(
  reason: RejectionReason,
  code: string,
  field: string,
  problem: string,
  index: number | undefined,
  status = 400,
): Rejection {
  const subject = field === '$' ? 'transaction' : field;
  const where = index === undefined ? '' : `transaction [${index}]: `;
  return { status, code, reason, message: `${where}${subject} ${problem}`, field, problem, ...(index === undefined ? {} : { index }) };
}
