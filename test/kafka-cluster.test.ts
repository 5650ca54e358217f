// The active controller of a local KRaft cluster, as scripts/lib/kafka-cluster.ts reads it from the quorum logs.
import { describe, expect, it } from 'vitest';
import { leaderFromQuorumLogs } from '../scripts/lib/kafka-cluster.js';

describe('the active controller read from the quorum state logs', () => {
  const line = (state: string, epoch: number): string => `[t] INFO [RaftManager id=1] Completed transition to ${state}(localId=1, epoch=${epoch}, x=y) from Z (org.apache.kafka.raft.QuorumState)\n`;

  it('is the live node that last became Leader in the highest epoch (3.9 and 4.x log formats)', () => {
    const logs = new Map([
      [1, line('Unattached', 1) + line('FollowerState', 2)],
      [2, line('Leader', 1) + line('Resigned', 1)],
      [3, line('CandidateState', 2) + line('Leader', 2)],
    ]);
    expect(leaderFromQuorumLogs(logs)).toBe(3);
    const v4 = '[t] INFO [RaftManager id=2] Completed transition to Leader(localVoterNode=VoterNode(voterKey=ReplicaKey(id=2, directoryId=x)), epoch=7, epochStartOffset=0) from C\n';
    expect(leaderFromQuorumLogs(new Map([[1, line('FollowerState', 7)], [2, v4]]))).toBe(2);
  });

  it('is unknown while an election runs or before any node logged a transition', () => {
    expect(leaderFromQuorumLogs(new Map([[1, line('Leader', 3)], [2, line('CandidateState', 4)]]))).toBeUndefined();
    expect(leaderFromQuorumLogs(new Map([[1, ''], [2, 'no quorum lines']]))).toBeUndefined();
  });
});
