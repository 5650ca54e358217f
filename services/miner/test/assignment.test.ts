// The ordinal assignor's pure core: which live miner mines which partition.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignPartitions,
  decodeMemberData,
  effectiveReplicas,
  encodeMemberData,
  type GroupMemberInfo,
  type PartitionAssignment,
} from '../src/domain/assignment.js';

const TOPIC = 'transactions';

function partitionsOf(assignment: PartitionAssignment, memberId: string): number[] {
  return assignment.get(memberId)?.get(TOPIC) ?? [];
}

function owners(assignment: PartitionAssignment): Map<number, string[]> {
  const result = new Map<number, string[]>();
  for (const [memberId, byTopic] of assignment) {
    for (const partition of byTopic.get(TOPIC) ?? []) result.set(partition, [...(result.get(partition) ?? []), memberId]);
  }
  return result;
}

const members = (...ordinals: (number | undefined)[]): GroupMemberInfo[] =>
  ordinals.map((ordinal, i) => ({ memberId: `m-${i}`, ...(ordinal === undefined ? {} : { ordinal }) }));

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('assignPartitions', () => {
  it('gives partition p to the miner with ordinal p mod replicas, several each when there are more partitions', () => {
    const assignment = assignPartitions(members(0, 1), [{ topic: TOPIC, partitions: range(5) }]);
    expect(partitionsOf(assignment, 'm-0')).toEqual([0, 2, 4]);
    expect(partitionsOf(assignment, 'm-1')).toEqual([1, 3]);
  });

  it('leaves the extra miners standing by, and hands a dead miner’s partition to a stand-by', () => {
    const all = members(0, 1, 2);
    const healthy = assignPartitions(all, [{ topic: TOPIC, partitions: [0, 1] }]);
    expect([partitionsOf(healthy, 'm-0'), partitionsOf(healthy, 'm-1'), partitionsOf(healthy, 'm-2')]).toEqual([[0], [1], []]);

    // Ordinal 0 is gone; the configured replica count (3) still says p0 belongs to ordinal 0.
    const withReplicas = all.map((member) => ({ ...member, replicas: 3 }));
    const afterDeath = assignPartitions(withReplicas.slice(1), [{ topic: TOPIC, partitions: [0, 1] }]);
    expect(partitionsOf(afterDeath, 'm-1')).toEqual([1]);
    expect(partitionsOf(afterDeath, 'm-2')).toEqual([0]);
  });

  it('gives partitions grown for scaled-up miners to those miners, even when they advertise the old replica count', () => {
    const scaledUp = [0, 1, 2, 3].map((ordinal) => ({ memberId: `m-${ordinal}`, ordinal, replicas: 2 }));
    const assignment = assignPartitions(scaledUp, [{ topic: TOPIC, partitions: range(4) }]);
    expect(['m-0', 'm-1', 'm-2', 'm-3'].map((member) => partitionsOf(assignment, member))).toEqual([[0], [1], [2], [3]]);
  });

  it('uses the highest live ordinal + 1 when it exceeds the configured replica count', () => {
    expect(effectiveReplicas(members(0, 3))).toBe(4);
    expect(effectiveReplicas([{ memberId: 'a', ordinal: 0, replicas: 2 }, { memberId: 'b', ordinal: 5, replicas: 6 }])).toBe(6);
    expect(effectiveReplicas(members(undefined))).toBe(1);
    // Miners added by a scale-up carry the old MINER_REPLICAS (2) but still count.
    expect(effectiveReplicas([0, 1, 2, 3].map((ordinal) => ({ memberId: `m-${ordinal}`, ordinal, replicas: 2 })))).toBe(4);
    const assignment = assignPartitions(members(0, 3), [{ topic: TOPIC, partitions: range(4) }]);
    // Ordinals 1 and 2 are missing: their partitions are spread over the live members, least loaded first.
    expect(partitionsOf(assignment, 'm-0')).toEqual([0, 1]);
    expect(partitionsOf(assignment, 'm-1')).toEqual([2, 3]);
  });

  it('prefers the first member by id when two claim the same ordinal; the other stands by', () => {
    const assignment = assignPartitions(
      [
        { memberId: 'z-old', ordinal: 0 },
        { memberId: 'a-new', ordinal: 0 },
      ],
      [{ topic: TOPIC, partitions: [0] }],
    );
    expect(partitionsOf(assignment, 'a-new')).toEqual([0]);
    expect(partitionsOf(assignment, 'z-old')).toEqual([]);
  });

  const memberArbitrary = fc.record(
    {
      ordinal: fc.integer({ min: 0, max: 7 }),
      replicas: fc.integer({ min: 1, max: 8 }),
    },
    { requiredKeys: [] },
  );
  const groupArbitrary = fc
    .uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), memberArbitrary), { selector: ([id]) => id, minLength: 1, maxLength: 8 })
    .map((entries) => entries.map(([memberId, info]): GroupMemberInfo => ({ memberId, ...info })));
  const partitionsArbitrary = fc.integer({ min: 0, max: 24 }).map(range);

  it('assigns every partition to exactly one live member, and lists every member', () => {
    fc.assert(
      fc.property(groupArbitrary, partitionsArbitrary, (group, partitions) => {
        const assignment = assignPartitions(group, [{ topic: TOPIC, partitions }]);
        expect([...assignment.keys()].sort()).toEqual(group.map((member) => member.memberId).sort());
        const byPartition = owners(assignment);
        expect([...byPartition.keys()].sort((a, b) => a - b)).toEqual(partitions);
        for (const memberIds of byPartition.values()) expect(memberIds).toHaveLength(1);
      }),
    );
  });

  it('gives each partition to its preferred ordinal whenever a member with that ordinal is alive', () => {
    fc.assert(
      fc.property(groupArbitrary, partitionsArbitrary, (group, partitions) => {
        const replicas = effectiveReplicas(group);
        const assignment = assignPartitions(group, [{ topic: TOPIC, partitions }]);
        const ordinalOf = new Map(group.map((member) => [member.memberId, member.ordinal]));
        for (const [partition, [owner]] of owners(assignment)) {
          const preferredAlive = group.some((member) => member.ordinal === partition % replicas);
          if (preferredAlive) expect(ordinalOf.get(owner as string)).toBe(partition % replicas);
        }
      }),
    );
  });

  it('hands orphaned partitions to the least-loaded members (stand-bys first)', () => {
    fc.assert(
      fc.property(groupArbitrary, partitionsArbitrary, (group, partitions) => {
        const replicas = effectiveReplicas(group);
        const assignment = assignPartitions(group, [{ topic: TOPIC, partitions }]);
        const load = (memberId: string): number => partitionsOf(assignment, memberId).length;
        const byPartition = owners(assignment);
        const preferredOwner = new Map<number, string>();
        for (const member of [...group].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) {
          if (member.ordinal === undefined) continue;
          for (const partition of partitions) {
            if (partition % replicas === member.ordinal && !preferredOwner.has(partition)) preferredOwner.set(partition, member.memberId);
          }
        }
        for (const partition of partitions) {
          if (preferredOwner.has(partition)) continue;
          // The member got this orphan while no member had fewer partitions than it had then.
          const receiver = byPartition.get(partition)?.[0] as string;
          for (const other of group) expect(load(receiver) - 1).toBeLessThanOrEqual(load(other.memberId));
        }
      }),
    );
  });

  it('does not depend on the order the group lists its members in', () => {
    fc.assert(
      fc.property(
        groupArbitrary.chain((group) => fc.tuple(fc.constant(group), fc.shuffledSubarray(group, { minLength: group.length, maxLength: group.length }))),
        partitionsArbitrary,
        ([group, shuffled], partitions) => {
          const a = assignPartitions(group, [{ topic: TOPIC, partitions }]);
          const b = assignPartitions(shuffled, [{ topic: TOPIC, partitions }]);
          for (const member of group) expect(partitionsOf(b, member.memberId)).toEqual(partitionsOf(a, member.memberId));
        },
      ),
    );
  });
});

describe('member data in the group subscription', () => {
  it('round-trips the ordinal and replica count', () => {
    expect(decodeMemberData(encodeMemberData({ ordinal: 3, replicas: 5 }))).toEqual({ ordinal: 3, replicas: 5 });
    expect(decodeMemberData(encodeMemberData({ ordinal: 0 }))).toEqual({ ordinal: 0 });
  });

  it('never throws on foreign or corrupt data: such a member has no ordinal', () => {
    expect(decodeMemberData(undefined)).toEqual({});
    expect(decodeMemberData(Buffer.from('{"ordinal":-1,"replicas":0}'))).toEqual({});
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const decoded = decodeMemberData(bytes);
        if (decoded.ordinal !== undefined) expect(Number.isSafeInteger(decoded.ordinal) && decoded.ordinal >= 0).toBe(true);
      }),
    );
  });
});
