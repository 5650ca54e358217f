/**
 * Where a miner reads its partitions from after each consumer-group join. Pure.
 *
 * Offsets committed to Kafka are never used: the canonical chain records, for every partition, the last
 * offset some block consumed, so a partition the miner gains resumes at that offset + 1 (0 when no block
 * has consumed it yet). Whatever happened before (crash, restart, rebalance, a lost race), the miner then
 * reads exactly the messages no canonical block covers: nothing lost, nothing mined twice.
 *
 * A partition the miner keeps across a rebalance continues where its pending pool ends (which is never
 * before the chain's resume offset), so nothing already read is read again.
 */

export function resumeOffset(chainLastOffset: number | undefined): number {
  return chainLastOffset === undefined ? 0 : chainLastOffset + 1;
}

export interface Seek {
  readonly partition: number;
  readonly offset: number;
  /** True when the partition is new to this miner (its pending pool starts empty at `offset`). */
  readonly gained: boolean;
}

export interface JoinPlan {
  /** Partitions owned before the join and not after: their pending entries are dropped. */
  readonly revoked: number[];
  /** One seek for every assigned partition: kafkajs forgets positions on every join. */
  readonly seeks: Seek[];
}

export function planJoin(
  owned: Iterable<number>,
  assigned: Iterable<number>,
  chainLastOffset: (partition: number) => number | undefined,
  pendingNextOffset: (partition: number) => number | undefined,
): JoinPlan {
  const before = new Set(owned);
  const after = [...new Set(assigned)].sort((a, b) => a - b);
  const afterSet = new Set(after);
  const revoked = [...before].filter((partition) => !afterSet.has(partition)).sort((a, b) => a - b);
  const seeks = after.map((partition): Seek => {
    const fromChain = resumeOffset(chainLastOffset(partition));
    const pending = before.has(partition) ? pendingNextOffset(partition) : undefined;
    return pending === undefined
      ? { partition, offset: fromChain, gained: true }
      : { partition, offset: Math.max(pending, fromChain), gained: false };
  });
  return { revoked, seeks };
}
