/**
 * When the auditor may answer `unknown` for a transaction id (docs/architecture.md, "read-your-writes"):
 * only once it has looked everywhere the transaction could be. Committed transactions are in the index, but
 * only a complete index can rule one out; pending ones are in the pending tracker, but only for the records
 * the transactions follower has read. So a lookup that finds nothing first makes sure the follower has read
 * every record that was on the transactions topic after the request arrived, then looks again; a record
 * acknowledged before the request is then either found or truly not there.
 */

/** One partition of the transactions topic as fetched: its records span [low, high) (high: the next offset written). */
export interface PartitionSpan {
  readonly partition: number;
  readonly low: number;
  readonly high: number;
}

/** A partition whose records the follower has not all read yet. */
export interface UnreadPartition {
  readonly partition: number;
  /** The next offset the follower reads. */
  readonly position: number;
  /** The offset it must reach (the partition's end when asked). */
  readonly end: number;
}

/**
 * The partitions of `spans` where the follower is short of the end. Records below a partition's low offset
 * are gone (retention): a follower before them has nothing to read there, so low counts as read.
 */
export function unreadPartitions(spans: readonly PartitionSpan[], position: (partition: number) => number): UnreadPartition[] {
  const unread: UnreadPartition[] = [];
  for (const { partition, low, high } of spans) {
    const at = position(partition);
    if (Math.max(at, low) < high) unread.push({ partition, position: at, end: high });
  }
  return unread;
}

/** Records the follower still has to read to reach the ends (what a 503 reports). */
export function recordsBehind(unread: readonly UnreadPartition[]): number {
  return unread.reduce((total, { position, end }) => total + Math.max(0, end - position), 0);
}

/** How the check of the transactions topic went. */
export type TransactionsRead =
  /** Every record on the topic when the request arrived has been read (the pending tracker knows it). */
  | { readonly outcome: 'read' }
  /** The follower did not reach the ends in time. */
  | { readonly outcome: 'behind'; readonly unread: readonly UnreadPartition[] }
  /** The topic's end offsets could not be fetched in time (broker unreachable or slow). */
  | { readonly outcome: 'unreachable'; readonly detail: string };

export interface NotFoundFacts {
  /** Every block from genesis is indexed (no committed transaction is missing from the index). */
  readonly indexComplete: boolean;
  /** Undefined until the transactions topic was checked for this request. */
  readonly read: TransactionsRead | undefined;
  /** Pending transactions whose ids the tracker does not index (beyond its limit): one of them may be this one. */
  readonly untrackedPending: number;
}

/** What to answer for an id found neither in the index nor in the pending tracker. */
export type NotFoundAnswer =
  /** 404 unknown: no committed, pending or dropped transaction has this id. */
  | { readonly answer: 'unknown' }
  /** Check the transactions topic (then look the id up again and ask once more). */
  | { readonly answer: 'check-topic' }
  /** 503 index-building: it may be committed in a block not indexed yet. */
  | { readonly answer: 'index-building' }
  /** 503 pending-catching-up: it may be on the topic in a record not read yet. */
  | { readonly answer: 'pending-catching-up'; readonly reason: string; readonly partitionsBehind: number; readonly recordsBehind: number }
  /** 503 pending-untracked: it may be one of the pending transactions the tracker counts but does not index. */
  | { readonly answer: 'pending-untracked'; readonly untrackedPending: number };

/**
 * The order: an incomplete index is answered first (no topic check can help); then the topic is checked;
 * then whatever the check could not rule out is a retryable 503, never `unknown`.
 */
export function notFoundAnswer({ indexComplete, read, untrackedPending }: NotFoundFacts): NotFoundAnswer {
  if (!indexComplete) return { answer: 'index-building' };
  if (read === undefined) return { answer: 'check-topic' };
  if (read.outcome === 'unreachable') {
    return { answer: 'pending-catching-up', reason: `the transactions topic's end offsets could not be fetched: ${read.detail}`, partitionsBehind: 0, recordsBehind: 0 };
  }
  if (read.outcome === 'behind') {
    const behind = recordsBehind(read.unread);
    return {
      answer: 'pending-catching-up',
      reason: `the auditor has not read ${behind} record(s) of ${read.unread.length} transactions partition(s) yet`,
      partitionsBehind: read.unread.length,
      recordsBehind: behind,
    };
  }
  if (untrackedPending > 0) return { answer: 'pending-untracked', untrackedPending };
  return { answer: 'unknown' };
}

/** How a lookup that first found nothing ended: found after the topic check, or the answer given (metrics). */
export type NotFoundOutcome = 'found' | Exclude<NotFoundAnswer['answer'], 'check-topic'>;
