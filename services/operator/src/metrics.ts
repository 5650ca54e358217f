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

/** Per-Ledger metrics: labels namespace and ledger (one series per Ledger; removed with the Ledger). */
export interface LedgerMetrics {
  partitions: Gauge<'namespace' | 'ledger'>;
  miners: Gauge<'namespace' | 'ledger'>;
  readyMiners: Gauge<'namespace' | 'ledger'>;
  ready: Gauge<'namespace' | 'ledger'>;
  kafkaReachable: Gauge<'namespace' | 'ledger'>;
  chainHeight: Gauge<'namespace' | 'ledger'>;
  oldestPendingSeconds: Gauge<'namespace' | 'ledger'>;
  reconciles: Counter<'namespace' | 'ledger' | 'result'>;
  reconcileDuration: Histogram<'namespace' | 'ledger'>;
  /** Objects created, changed or deleted by reconciles (a change of an unchanged spec is drift corrected). */
  objectChanges: Counter<'namespace' | 'ledger' | 'change'>;
}

export function createLedgerMetrics(registry: Registry): LedgerMetrics {
  const registers = [registry];
  const labelNames = ['namespace', 'ledger'] as const;
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames, registers });
  return {
    partitions: gauge('chainlog_operator_ledger_partitions', 'Partitions of the Ledger\'s transactions topic, as last read from Kafka'),
    miners: gauge('chainlog_operator_ledger_miners', 'Miner replicas of the Ledger (its StatefulSet\'s spec.replicas)'),
    readyMiners: gauge('chainlog_operator_ledger_ready_miners', 'Miners of the Ledger that are ready'),
    ready: gauge('chainlog_operator_ledger_ready', '1 while the Ledger\'s Ready condition is True, else 0'),
    kafkaReachable: gauge('chainlog_operator_ledger_kafka_reachable', '1 while the Ledger\'s Kafka answered the last admin request, else 0'),
    chainHeight: gauge('chainlog_operator_ledger_chain_height', 'Blocks in the Ledger\'s canonical chain, as its auditor last reported'),
    oldestPendingSeconds: gauge('chainlog_operator_ledger_oldest_pending_seconds', 'Age of the Ledger\'s oldest acknowledged transaction not yet in a block, as its auditor last reported'),
    reconciles: new Counter({ name: 'chainlog_operator_ledger_reconciles_total', help: 'Reconciles of a Ledger, by result (ok, error)', labelNames: ['namespace', 'ledger', 'result'], registers }),
    reconcileDuration: new Histogram({
      name: 'chainlog_operator_ledger_reconcile_duration_seconds',
      help: 'Duration of one Ledger reconcile, Kafka and API requests included',
      labelNames,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    objectChanges: new Counter({
      name: 'chainlog_operator_ledger_object_changes_total',
      help: 'Owned objects created, changed (spec change or drift corrected) or deleted, by change',
      labelNames: ['namespace', 'ledger', 'change'],
      registers,
    }),
  };
}

/**
 * Creates a Ledger's counters at 0 for every result and change, so that a rate of errors reads 0 (not "no data")
 * until the first one, for the dashboards and alerts alike.
 */
export function initLedgerSeries(metrics: LedgerMetrics, labels: { namespace: string; ledger: string }): void {
  for (const result of ['ok', 'error']) metrics.reconciles.inc({ ...labels, result }, 0);
  for (const change of ['created', 'changed', 'deleted']) metrics.objectChanges.inc({ ...labels, change }, 0);
}

/** Drops every series of a Ledger that no longer exists. */
export function forgetLedger(metrics: LedgerMetrics, labels: { namespace: string; ledger: string }): void {
  const { reconciles, objectChanges, ...plain } = metrics;
  for (const metric of Object.values(plain)) metric.remove(labels);
  for (const result of ['ok', 'error']) reconciles.remove({ ...labels, result });
  for (const change of ['created', 'changed', 'deleted']) objectChanges.remove({ ...labels, change });
}
