// The operator's decision, pure: from what it observed (the miner StatefulSet, the transactions topic's
// partition count, the partition count it recorded last time, whether it leads) to what it should do.
// No I/O, no clock: the reconciler executes the actions, the tests check the rules exhaustively.
//
// The rules (README "Behaviour"):
//   - replicas above partitions: grow the partitions to the replicas (partitions only grow), so every
//     miner has a partition of its own;
//   - partitions above replicas because the partitions GREW since the operator last recorded them
//     (kafka-topics, the provisioning Job): scale the StatefulSet up to the partitions;
//   - partitions above replicas otherwise (someone scaled the miners down: kubectl, a Helm upgrade, the
//     chart's miner.replicas): allowed, reported, never reverted;
//   - never beyond maxPartitions, in either direction (a typo in `kubectl scale` must not create
//     thousands of partitions that can never be removed);
//   - only the leader acts.

/** What one reconcile observed. */
export interface Observation {
  /** spec.replicas of the miner StatefulSet; undefined when it does not exist. */
  replicas: number | undefined;
  /** status.readyReplicas (0 when absent). Only reported: readiness never gates an action. */
  readyReplicas: number;
  /** Partitions of the transactions topic; undefined when the topic does not exist (yet). */
  partitions: number | undefined;
  /** The partition count recorded on the StatefulSet (annotation) after the last reconcile, if any. */
  observedPartitions: number | undefined;
  /** The partition count the chart asked for (TRANSACTIONS_PARTITIONS), the baseline before any record. */
  configuredPartitions: number | undefined;
  /** Whether this instance holds the leader Lease. */
  leader: boolean;
  /** The operator never grows partitions nor scales miners beyond this. */
  maxPartitions: number;
}

export type Action =
  /** Grow the transactions topic from `from` to `to` partitions (to > from). */
  | { kind: 'grow-partitions'; from: number; to: number }
  /** Scale the miner StatefulSet from `from` to `to` replicas (to > from). */
  | { kind: 'scale-miners'; from: number; to: number }
  /** Fewer miners than partitions, by someone's choice: report (Event, log, metric), do not revert. */
  | { kind: 'report-scale-down'; replicas: number; partitions: number }
  /** Matching would need more than maxPartitions: report; the operator went as far as the limit. */
  | { kind: 'report-partition-limit'; wanted: number; limit: number }
  /** Record the partition count (after the actions above) on the StatefulSet. */
  | { kind: 'record-partitions'; partitions: number };

export type ActionKind = Action['kind'];

export const ACTION_KINDS: readonly ActionKind[] = ['grow-partitions', 'scale-miners', 'report-scale-down', 'report-partition-limit', 'record-partitions'];

/** Actions that change the cluster or Kafka (as opposed to reports). */
export const MUTATING: ReadonlySet<ActionKind> = new Set(['grow-partitions', 'scale-miners', 'record-partitions']);

export type Situation =
  | 'statefulset-missing'
  | 'topic-missing'
  | 'not-leader'
  | 'matched'
  | 'miners-above-partitions'
  | 'partitions-grew'
  | 'miners-below-partitions';

export interface Decision {
  situation: Situation;
  /** In execution order; empty means nothing to do. */
  actions: Action[];
}

/**
 * The partition count against which "the partitions grew" is judged: the last recorded count, else the
 * chart's configured count, else the current count (first sight without any baseline: nothing grew). A
 * record above the current count (the topic was recreated smaller) is not a baseline: the current count is.
 */
export function partitionBaseline(observation: Pick<Observation, 'partitions' | 'observedPartitions' | 'configuredPartitions'>): number | undefined {
  const { partitions, observedPartitions, configuredPartitions } = observation;
  if (partitions === undefined) return undefined;
  const baseline = observedPartitions ?? configuredPartitions ?? partitions;
  return Math.min(baseline, partitions);
}

export function decide(observation: Observation): Decision {
  const { replicas, partitions, observedPartitions, leader, maxPartitions } = observation;
  if (replicas === undefined) return { situation: 'statefulset-missing', actions: [] };
  if (partitions === undefined) return { situation: 'topic-missing', actions: [] };
  if (!leader) return { situation: 'not-leader', actions: [] };

  const actions: Action[] = [];
  let situation: Situation = 'matched';
  let partitionsAfter = partitions;

  if (replicas > partitions) {
    situation = 'miners-above-partitions';
    const target = Math.min(replicas, maxPartitions);
    if (target > partitions) {
      actions.push({ kind: 'grow-partitions', from: partitions, to: target });
      partitionsAfter = target;
    }
    if (replicas > maxPartitions) actions.push({ kind: 'report-partition-limit', wanted: replicas, limit: maxPartitions });
  } else if (partitions > replicas) {
    const baseline = partitionBaseline(observation) as number;
    if (partitions > baseline) {
      situation = 'partitions-grew';
      const target = Math.min(partitions, maxPartitions);
      if (target > replicas) actions.push({ kind: 'scale-miners', from: replicas, to: target });
      if (partitions > maxPartitions) actions.push({ kind: 'report-partition-limit', wanted: partitions, limit: maxPartitions });
      const replicasAfter = Math.max(replicas, target);
      if (replicasAfter < partitions) actions.push({ kind: 'report-scale-down', replicas: replicasAfter, partitions });
    } else {
      situation = 'miners-below-partitions';
      actions.push({ kind: 'report-scale-down', replicas, partitions });
    }
  }

  if (observedPartitions !== partitionsAfter) actions.push({ kind: 'record-partitions', partitions: partitionsAfter });
  return { situation, actions };
}

/**
 * Partitions without a ready miner of their own: max(0, partitions - ready miners). With fewer ready miners
 * than partitions the surplus partitions are mined by miners that already own another one (slower), or,
 * with no ready miner at all, not mined. 0 when either count is unknown.
 */
export function unownedPartitions(partitions: number | undefined, readyReplicas: number): number {
  if (partitions === undefined) return 0;
  return Math.max(0, partitions - Math.min(partitions, Math.max(0, readyReplicas)));
}
