// The Ledger's conditions from an observation (pure).
import { describe, expect, it } from 'vitest';
import { computeStatus, type Observation } from '../../src/ledger/status.js';

const base: Observation = {
  generation: 3,
  kafka: { reachable: true, message: 'ok' },
  topics: { ready: true, partitions: 2, message: '4 topics' },
  workloads: [
    { name: 'StatefulSet/x-miner', desired: 2, ready: 2, upToDate: true },
    { name: 'Deployment/x-ingest', desired: 2, ready: 2, upToDate: true },
  ],
  miners: { desired: 2, ready: 2 },
  selector: 'a=b',
  bootstrapServers: 'k:9092',
};

const byType = (status: ReturnType<typeof computeStatus>) => Object.fromEntries((status.conditions ?? []).map((condition) => [condition.type, condition]));

describe('computeStatus', () => {
  it('Ready when Kafka answers, topics are there and every workload is ready with the current spec', () => {
    const status = computeStatus(undefined, base, '2026-01-01T00:00:00Z');
    expect(status).toMatchObject({ observedGeneration: 3, partitions: 2, miners: 2, readyMiners: 2 });
    const conditions = byType(status);
    expect(conditions.Ready).toMatchObject({ status: 'True', reason: 'LedgerReady', observedGeneration: 3 });
    expect(conditions.Progressing?.status).toBe('False');
    expect(conditions.Degraded?.status).toBe('False');
    expect(status.conditions?.map((condition) => condition.type)).toEqual(['Ready', 'Progressing', 'Degraded', 'KafkaReachable', 'TopicsReady']);
  });

  it('reports the auditors (replicas, ready) when the auditor StatefulSet exists, and readiness waits for them', () => {
    const auditor = { name: 'StatefulSet/x-auditor', desired: 2, ready: 1, upToDate: true };
    const status = computeStatus(undefined, { ...base, workloads: [...base.workloads, auditor], auditors: { desired: 2, ready: 1 } }, 't');
    expect(status).toMatchObject({ auditors: 2, readyAuditors: 1 });
    expect(byType(status).Ready).toMatchObject({ status: 'False', reason: 'WorkloadsNotReady' });
    expect(computeStatus(undefined, base, 't')).not.toHaveProperty('auditors');
  });

  it('an unreachable Kafka makes Ready and KafkaReachable False and Degraded True', () => {
    const conditions = byType(computeStatus(undefined, { ...base, kafka: { reachable: false, message: 'connection refused' }, topics: { ready: false, partitions: undefined, message: 'no' } }, 't'));
    expect(conditions.Ready).toMatchObject({ status: 'False', reason: 'KafkaUnreachable' });
    expect(conditions.KafkaReachable).toMatchObject({ status: 'False', reason: 'Unreachable', message: 'connection refused' });
    expect(conditions.Degraded?.status).toBe('True');
    expect(conditions.TopicsReady).toMatchObject({ status: 'False', reason: 'KafkaUnreachable' });
  });

  it('a workload not ready, or not yet at the current spec, is progress, not readiness', () => {
    const rolling = { ...base, workloads: [{ name: 'Deployment/x-ingest', desired: 3, ready: 2, upToDate: false }] };
    const conditions = byType(computeStatus(undefined, rolling, 't'));
    expect(conditions.Ready).toMatchObject({ status: 'False', reason: 'WorkloadsNotReady' });
    expect(conditions.Progressing).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(conditions.Progressing?.message).toContain('Deployment/x-ingest 2/3 ready (updating)');
  });

  it('keeps lastTransitionTime while a condition\'s status does not change', () => {
    const first = computeStatus(undefined, base, '2026-01-01T00:00:00Z');
    const same = computeStatus(first, base, '2026-01-01T00:05:00Z');
    expect(same).toEqual(first);
    const changed = computeStatus(first, { ...base, error: 'apply refused' }, '2026-01-01T00:10:00Z');
    expect(byType(changed).Ready?.lastTransitionTime).toBe('2026-01-01T00:10:00Z');
    expect(byType(changed).KafkaReachable?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(byType(changed).Degraded).toMatchObject({ status: 'True', reason: 'ReconcileFailed', message: 'apply refused' });
  });
});
