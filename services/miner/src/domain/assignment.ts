/**
 * Which live miner mines which transactions partition. Pure: the group leader runs it over the members
 * of the consumer group, each of which advertised its StatefulSet ordinal.
 *
 * - Partition p is preferred by ordinal p mod R (R = replicas): with fewer miners than partitions each owns
 *   several, with more the extra ones own none and stand by.
 * - When the preferred miner is not a live member (it died, or is restarting), its partitions go to the
 *   least-loaded live members: stand-bys first, ties broken by ordinal then member id.
 * - Two members with the same ordinal (an old pod not yet gone): the first by member id is the preferred
 *   one, the other is a stand-by.
 * - R is the largest replica count any member advertised (so a rolling change of MINER_REPLICAS converges),
 *   or the highest live ordinal + 1 when that is larger: miners that a `kubectl scale` (or the operator) added
 *   carry the old MINER_REPLICAS of the pod template, and must still get the partitions that grew for them.
 *
 * The result depends only on the set of members and partitions, never on their order.
 */

export interface GroupMemberInfo {
  readonly memberId: string;
  /** StatefulSet ordinal; undefined for a member that did not advertise one (never preferred). */
  readonly ordinal?: number;
  /** The replica count the member was configured with, if any. */
  readonly replicas?: number;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** memberId → topic → partitions (ascending). Every member is present, possibly with no partitions. */
export type PartitionAssignment = Map<string, Map<string, number[]>>;

export function effectiveReplicas(members: readonly GroupMemberInfo[]): number {
  const advertised = Math.max(0, ...members.map((member) => member.replicas ?? 0));
  const live = Math.max(0, ...members.map((member) => (member.ordinal ?? -1) + 1));
  return Math.max(advertised, live, 1);
}

export function preferredOrdinal(partition: number, replicas: number): number {
  return partition % replicas;
}

function compareMembers(a: GroupMemberInfo, b: GroupMemberInfo): number {
  const ordinalA = a.ordinal ?? Number.POSITIVE_INFINITY;
  const ordinalB = b.ordinal ?? Number.POSITIVE_INFINITY;
  if (ordinalA !== ordinalB) return ordinalA < ordinalB ? -1 : 1;
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

export function assignPartitions(members: readonly GroupMemberInfo[], topics: readonly TopicPartitions[]): PartitionAssignment {
  const sorted = [...members].sort(compareMembers);
  const result: PartitionAssignment = new Map(sorted.map((member) => [member.memberId, new Map<string, number[]>()]));
  if (sorted.length === 0) return result;
  const replicas = effectiveReplicas(sorted);

  const byOrdinal = new Map<number, GroupMemberInfo>();
  for (const member of sorted) {
    if (member.ordinal !== undefined && !byOrdinal.has(member.ordinal)) byOrdinal.set(member.ordinal, member);
  }

  const load = new Map(sorted.map((member) => [member.memberId, 0]));
  const give = (member: GroupMemberInfo, topic: string, partition: number): void => {
    const topicsOfMember = result.get(member.memberId) as Map<string, number[]>;
    const list = topicsOfMember.get(topic) ?? [];
    list.push(partition);
    topicsOfMember.set(topic, list);
    load.set(member.memberId, (load.get(member.memberId) ?? 0) + 1);
  };

  const orphans: { topic: string; partition: number }[] = [];
  const sortedTopics = [...topics].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  for (const { topic, partitions } of sortedTopics) {
    for (const partition of [...new Set(partitions)].sort((a, b) => a - b)) {
      const owner = byOrdinal.get(preferredOrdinal(partition, replicas));
      if (owner === undefined) orphans.push({ topic, partition });
      else give(owner, topic, partition);
    }
  }

  for (const { topic, partition } of orphans) {
    let best = sorted[0] as GroupMemberInfo;
    for (const candidate of sorted) {
      if ((load.get(candidate.memberId) ?? 0) < (load.get(best.memberId) ?? 0)) best = candidate;
    }
    give(best, topic, partition);
  }

  for (const topicsOfMember of result.values()) {
    for (const list of topicsOfMember.values()) list.sort((a, b) => a - b);
  }
  return result;
}

/** What each member advertises in its group subscription (the assignor protocol's userData). */
export function encodeMemberData(data: { ordinal: number; replicas?: number }): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, ordinal: data.ordinal, ...(data.replicas === undefined ? {} : { replicas: data.replicas }) }));
}

/** Never throws: a member with unreadable data simply has no ordinal (it can only be a stand-by). */
export function decodeMemberData(bytes: Uint8Array | undefined): { ordinal?: number; replicas?: number } {
  if (bytes === undefined || bytes.length === 0) return {};
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as { ordinal?: unknown; replicas?: unknown };
    const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= 1_000_000;
    return {
      ...(isCount(value.ordinal) ? { ordinal: value.ordinal } : {}),
      ...(isCount(value.replicas) && value.replicas > 0 ? { replicas: value.replicas } : {}),
    };
  } catch {
    return {};
  }
}
