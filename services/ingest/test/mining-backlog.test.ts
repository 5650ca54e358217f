// Which partitions mining is behind on, from the miners' committed offsets and the offsets at `now − limit`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backloggedPartitions } from '../src/domain/mining-backlog.js';

describe('backloggedPartitions', () => {
  it('flags a partition whose unmined records start below the first recent one, and fails open without a commit', () => {
    const committed = new Map([
      [0, 5], // records 5.. unmined, the first at or after now − limit is 9: 5..8 are old and unmined
      [1, 9], // everything before 9 mined
      [2, 12], // mined past the old records
      // 3: no miner ever committed: unknown
      [4, -1],
    ]);
    const recent = new Map([
      [0, 9],
      [1, 9],
      [2, 9],
      [3, 9],
      [4, 9],
    ]);
    expect(backloggedPartitions(committed, recent)).toEqual([0]);
  });

  it('is backlogged exactly when some record older than the limit is unmined', () => {
    fc.assert(
      fc.property(
        // Per partition: record timestamps (sorted: one producer's CreateTime), the miners' committed offset, the limit.
        fc.array(fc.record({ ages: fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 12 }), mined: fc.integer({ min: -1, max: 12 }) }), { maxLength: 4 }),
        fc.integer({ min: 0, max: 100 }),
        (partitions, limit) => {
          const committed = new Map<number, number>();
          const recent = new Map<number, number>();
          const expected: number[] = [];
          partitions.forEach(({ ages, mined }, partition) => {
            const sorted = [...ages].sort((a, b) => b - a); // oldest first
            const end = sorted.length;
            const committedOffset = Math.min(mined, end);
            committed.set(partition, committedOffset);
            // ListOffsets by timestamp: the first record no older than the limit, else the end.
            const first = sorted.findIndex((age) => age <= limit);
            recent.set(partition, first === -1 ? end : first);
            const unminedOld = committedOffset >= 0 && sorted.slice(committedOffset).some((age) => age > limit);
            if (unminedOld) expected.push(partition);
          });
          expect(backloggedPartitions(committed, recent)).toEqual(expected);
        },
      ),
    );
  });
});
