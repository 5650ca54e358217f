// The Ledger's status from what one reconcile observed (pure). Conditions keep their lastTransitionTime
// while their status does not change, so an unchanged ledger writes an unchanged status (and no watch event).
import type { Condition, ConditionType, LedgerStatus } from './types.js';

export interface WorkloadState {
  name: string;
  desired: number;
  ready: number;
  /** The controller has seen the current spec (status.observedGeneration >= metadata.generation). */
  upToDate: boolean;
}

export interface ChainState {
  height?: number;
  tip?: string;
  oldestPendingSeconds?: number;
  observedAt: string;
}

export interface Observation {
  generation: number;
  /** The Kafka admin answered (undefined: not asked yet). */
  kafka: { reachable: boolean; message: string };
  /** Topics exist and the transactions topic has spec.partitions partitions. */
  topics: { ready: boolean; partitions: number | undefined; message: string };
  workloads: WorkloadState[];
  miners: { desired: number; ready: number };
  /** The auditor StatefulSet's replicas (each on its own volume), when it exists. */
  auditors?: { desired: number; ready: number };
  /** A reconcile step failed (apply refused, RBAC, ...). */
  error?: string;
  selector: string;
  bootstrapServers: string;
  chain?: ChainState;
}

const CONDITION_ORDER: ConditionType[] = ['Ready', 'Progressing', 'Degraded', 'KafkaReachable', 'TopicsReady'];

function condition(type: ConditionType, ok: boolean, reason: string, message: string, generation: number): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message, observedGeneration: generation };
}

export function computeConditions(observation: Observation): Condition[] {
  const { generation, kafka, topics, workloads, error } = observation;
  const notReady = workloads.filter((workload) => workload.ready < workload.desired || !workload.upToDate);
  const rolling = notReady.map((workload) => `${workload.name} ${workload.ready}/${workload.desired} ready${workload.upToDate ? '' : ' (updating)'}`).join(', ');
  const kafkaCondition = condition('KafkaReachable', kafka.reachable, kafka.reachable ? 'Connected' : 'Unreachable', kafka.message, generation);
  const topicsCondition = condition('TopicsReady', topics.ready, topics.ready ? 'Provisioned' : kafka.reachable ? 'Provisioning' : 'KafkaUnreachable', topics.message, generation);
  const degraded = error !== undefined || !kafka.reachable;
  const degradedCondition = condition(
    'Degraded',
    degraded,
    error !== undefined ? 'ReconcileFailed' : !kafka.reachable ? 'KafkaUnreachable' : 'AsExpected',
    error ?? (!kafka.reachable ? `Kafka cannot be reached: ${kafka.message}` : 'Everything the Ledger implies is in place'),
    generation,
  );
  const progressing = notReady.length > 0 || !topics.ready;
  const progressingCondition = condition(
    'Progressing',
    progressing,
    progressing ? 'RollingOut' : 'Complete',
    progressing ? [!topics.ready ? `topics: ${topics.message}` : '', rolling].filter(Boolean).join('; ') : 'Every workload is ready with the current spec',
    generation,
  );
  const ready = kafka.reachable && topics.ready && notReady.length === 0 && error === undefined;
  const readyReason = ready ? 'LedgerReady' : !kafka.reachable ? 'KafkaUnreachable' : error !== undefined ? 'ReconcileFailed' : !topics.ready ? 'TopicsNotReady' : 'WorkloadsNotReady';
  const readyMessage = ready
    ? `${observation.miners.ready} miner(s) for ${topics.partitions ?? 0} partition(s), every workload ready`
    : !kafka.reachable
      ? `Kafka cannot be reached: ${kafka.message}`
      : (error ?? (!topics.ready ? topics.message : rolling));
  return [condition('Ready', ready, readyReason, readyMessage, generation), progressingCondition, degradedCondition, kafkaCondition, topicsCondition];
}

/** Keeps lastTransitionTime from the previous condition of the same type when its status did not change. */
export function mergeConditions(previous: Condition[] | undefined, next: Condition[], now: string): Condition[] {
  return next
    .map((condition) => {
      const before = previous?.find((candidate) => candidate.type === condition.type);
      const lastTransitionTime = before !== undefined && before.status === condition.status && before.lastTransitionTime ? before.lastTransitionTime : now;
      return { ...condition, lastTransitionTime };
    })
    .sort((a, b) => CONDITION_ORDER.indexOf(a.type) - CONDITION_ORDER.indexOf(b.type));
}

export function computeStatus(previous: LedgerStatus | undefined, observation: Observation, now: string): LedgerStatus {
  const status: LedgerStatus = {
    observedGeneration: observation.generation,
    conditions: mergeConditions(previous?.conditions, computeConditions(observation), now),
    miners: observation.miners.desired,
    readyMiners: observation.miners.ready,
    selector: observation.selector,
    bootstrapServers: observation.bootstrapServers,
  };
  if (observation.topics.partitions !== undefined) status.partitions = observation.topics.partitions;
  if (observation.auditors !== undefined) {
    status.auditors = observation.auditors.desired;
    status.readyAuditors = observation.auditors.ready;
  }
  const chain = observation.chain ?? previous?.chain;
  if (chain !== undefined) status.chain = chain;
  return status;
}

/** The Ready condition's status, for metrics. */
export function isReady(status: LedgerStatus): boolean {
  return status.conditions?.find((condition) => condition.type === 'Ready')?.status === 'True';
}
