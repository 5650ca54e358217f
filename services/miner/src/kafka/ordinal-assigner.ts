// The consumer group's partition assignor: kafkajs has no manual assign(), so miners share a consumer
// group whose leader runs this assignor. Each member advertises its StatefulSet ordinal (and configured
// replica count) in its subscription's userData; the leader maps partitions to live members with the pure
// assignPartitions (domain/assignment.ts).
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import { assignPartitions, decodeMemberData, encodeMemberData, type GroupMemberInfo } from '../domain/assignment.js';

export const ORDINAL_ASSIGNER_NAME = 'ChainlogOrdinalAssigner';
const VERSION = 1;

export function ordinalAssigner(self: { ordinal: number; replicas?: number }): PartitionAssigner {
  return ({ cluster, logger }) => ({
    name: ORDINAL_ASSIGNER_NAME,
    version: VERSION,

    protocol({ topics }) {
      return {
        name: ORDINAL_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: VERSION,
          topics,
          userData: encodeMemberData(self),
        }),
      };
    },

    async assign({ members, topics }) {
      const infos: GroupMemberInfo[] = members.map(({ memberId, memberMetadata }) => {
        const metadata = AssignerProtocol.MemberMetadata.decode(memberMetadata);
        return { memberId, ...decodeMemberData(metadata?.userData) };
      });
      const partitionsByTopic = topics.map((topic) => ({
        topic,
        partitions: cluster.findTopicPartitionMetadata(topic).map((metadata) => metadata.partitionId),
      }));
      const assignment = assignPartitions(infos, partitionsByTopic);
      logger.info('assigned partitions by ordinal', {
        members: infos.map(({ memberId, ordinal }) => ({ memberId, ordinal })),
        assignment: [...assignment].map(([memberId, byTopic]) => ({ memberId, partitions: Object.fromEntries(byTopic) })),
      });
      return [...assignment].map(([memberId, byTopic]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment: Object.fromEntries(byTopic),
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}
