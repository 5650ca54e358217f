// The operator's own metrics (the HTTP request histogram and process metrics come from core).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ACTION_KINDS, type ActionKind } from './domain/reconcile.js';

/** The `action` label values of chainlog_operator_actions_total. */
export const ACTION_LABELS: readonly ActionKind[] = ACTION_KINDS;

export interface OperatorMetrics {
  partitions: Gauge;
  desiredMiners: Gauge;
  readyMiners: Gauge;
  unownedPartitions: Gauge;
  reconcileErrors: Counter;
  reconcileDuration: Histogram;
  isLeader: Gauge;
  actions: Counter<'action'>;
}

export function createOperatorMetrics(registry: Registry, isLeader: () => boolean): OperatorMetrics {
  const registers = [registry];
  const metrics: OperatorMetrics = {
    partitions: new Gauge({ name: 'chainlog_operator_partitions', help: 'Partitions of the transactions topic, as last read from Kafka', registers }),
    desiredMiners: new Gauge({ name: 'chainlog_operator_desired_miners', help: 'spec.replicas of the miner StatefulSet', registers }),
    readyMiners: new Gauge({ name: 'chainlog_operator_ready_miners', help: 'status.readyReplicas of the miner StatefulSet', registers }),
    unownedPartitions: new Gauge({
      name: 'chainlog_operator_unowned_partitions',
      help: 'Partitions without a ready miner of their own: max(0, partitions - ready miners)',
      registers,
    }),
    reconcileErrors: new Counter({ name: 'chainlog_operator_reconcile_errors_total', help: 'Reconciles that failed (retried with backoff)', registers }),
    reconcileDuration: new Histogram({
      name: 'chainlog_operator_reconcile_duration_seconds',
      help: 'Duration of one reconcile, reads and actions included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    isLeader: new Gauge({
      name: 'chainlog_operator_is_leader',
      help: '1 while this instance holds the leader Lease (and may act), else 0',
      registers,
      collect() {
        this.set(isLeader() ? 1 : 0);
      },
    }),
    actions: new Counter({
      name: 'chainlog_operator_actions_total',
      help: 'Actions taken by this instance while leading, by action',
      labelNames: ['action'],
      registers,
    }),
  };
  for (const action of ACTION_LABELS) metrics.actions.inc({ action }, 0);
  return metrics;
}
