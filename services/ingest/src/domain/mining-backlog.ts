/**
 * Is mining behind on a transactions partition? Pure (docs/architecture.md, "Mining backlog").
 *
 * The miners commit, in their consumer group, the first offset of each partition that no canonical block covers
 * yet (advisory: their reading never uses it). Kafka finds, per partition, the first offset whose record timestamp
 * is at least `now − limit`. Records below that offset are older than the limit; when the committed offset is below
 * it too, some of them are not mined yet: the partition is backlogged, and a transaction appended there now would
 * queue behind them and might wait past the replay window. No committed offset (no miner has owned the partition
 * since this version): unknown, so not backlogged (advisory checks fail open).
 */

/** Per partition: the miners' committed offset (-1: none) and the first offset at or after `now − limit`. */
export function backloggedPartitions(committed: ReadonlyMap<number, number>, firstRecent: ReadonlyMap<number, number>): number[] {
  const backlogged: number[] = [];
  for (const [partition, recent] of firstRecent) {
    const mined = committed.get(partition) ?? -1;
    if (mined >= 0 && mined < recent) backlogged.push(partition);
  }
  return backlogged.sort((a, b) => a - b);
}
