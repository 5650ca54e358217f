// The reconciler with in-memory ports: it carries out decisions, reports once per situation, acts only
// while leading, retries failures, and treats a lost write race as a reason to look again.
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../src/kube/events.js';
import { ConflictError, type EventTarget, type MinerStatefulSet } from '../src/kube/kube.js';
import { createOperatorMetrics } from '../src/metrics.js';
import { Reconciler, type EventPort, type StatefulSetPort, type TopicPort } from '../src/reconciler.js';

class World implements StatefulSetPort, TopicPort, EventPort {
  readonly name = 'chainlog-miner';
  readonly namespace = 'ledger';
  readonly topic = 'transactions';
  replicas = 2;
  ready = 2;
  partitions: number | undefined = 2;
  annotation: number | undefined = 2;
  version = 1;
  events: RecordedEvent[] = [];
  writes: string[] = [];
  failReads = 0;
  conflictOnce = false;

  async get(): Promise<MinerStatefulSet | undefined> {
    if (this.failReads > 0) {
      this.failReads -= 1;
      throw new Error('api server unreachable');
    }
    return { name: this.name, namespace: this.namespace, uid: 'u1', resourceVersion: String(this.version), replicas: this.replicas, readyReplicas: this.ready, observedPartitions: this.annotation };
  }
  async scale(replicas: number, resourceVersion: string): Promise<void> {
    if (this.conflictOnce || resourceVersion !== String(this.version)) {
      this.conflictOnce = false;
      this.version += 1;
      throw new ConflictError('changed');
    }
    this.writes.push(`scale ${replicas}`);
    this.replicas = replicas;
    this.version += 1;
  }
  async recordObservedPartitions(partitions: number): Promise<void> {
    this.writes.push(`record ${partitions}`);
    this.annotation = partitions;
    this.version += 1;
  }
  async read(): Promise<number | undefined> {
    return this.partitions;
  }
  async grow(to: number): Promise<number> {
    this.writes.push(`grow ${to}`);
    this.partitions = to;
    return to;
  }
  async record(_target: EventTarget, event: RecordedEvent): Promise<void> {
    this.events.push(event);
  }
}

function setup(world: World, leader = { value: true }) {
  const registry = createMetricsRegistry('operator');
  const metrics = createOperatorMetrics(registry, () => leader.value);
  const reconciler = new Reconciler({
    statefulSets: world,
    topic: world,
    events: world,
    leadership: { isLeader: () => leader.value },
    metrics,
    logger: pino({ level: 'silent' }),
    maxPartitions: 100,
    configuredPartitions: 2,
    resyncIntervalMs: 3_600_000,
  });
  const run = async (): Promise<void> => {
    reconciler.trigger('test');
    await reconciler.idle();
  };
  return { reconciler, metrics, registry, run, leader };
}

async function value(registry: ReturnType<typeof createMetricsRegistry>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  const { values } = await (metric as NonNullable<typeof metric>).get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)).reduce((sum, v) => sum + v.value, 0);
}

describe('Reconciler', () => {
  it('grows partitions after a scale-up, scales up after partitions grew, and is idempotent', async () => {
    const world = new World();
    const { run, registry, reconciler } = setup(world);
    world.replicas = 4;
    await run();
    expect(world.writes).toEqual(['grow 4', 'record 4']);
    expect(world.events.map((event) => event.reason)).toEqual(['PartitionsGrown']);

    world.partitions = 6;
    await run();
    expect(world.writes.slice(2)).toEqual(['scale 6', 'record 6']);
    expect(world.events.map((event) => event.reason)).toEqual(['PartitionsGrown', 'MinersScaledUp']);

    await run();
    await run();
    expect(world.writes).toHaveLength(4);
    expect(await value(registry, 'chainlog_operator_actions_total', { action: 'grow-partitions' })).toBe(1);
    expect(await value(registry, 'chainlog_operator_actions_total', { action: 'scale-miners' })).toBe(1);
    expect(await value(registry, 'chainlog_operator_partitions')).toBe(6);
    expect(await value(registry, 'chainlog_operator_desired_miners')).toBe(6);
    expect(reconciler.status().last?.decision?.situation).toBe('matched');
  });

  it('reports a scale-down once per situation and never reverts it', async () => {
    const world = new World();
    const { run, registry } = setup(world);
    world.replicas = 1;
    world.ready = 1;
    for (let i = 0; i < 3; i++) await run();
    expect(world.writes).toEqual([]);
    expect(world.events.map((event) => event.reason)).toEqual(['MinersBelowPartitions']);
    expect(world.events[0]?.message).toMatch(/^1 miner replica\(s\) for 2 partitions of topic transactions/);
    expect(await value(registry, 'chainlog_operator_unowned_partitions')).toBe(1);
    world.replicas = 0; // a different situation: reported again
    await run();
    expect(world.events).toHaveLength(2);
    expect(await value(registry, 'chainlog_operator_actions_total', { action: 'report-scale-down' })).toBe(2);
  });

  it('a follower observes and reports metrics but never writes', async () => {
    const world = new World();
    const { run, registry } = setup(world, { value: false });
    world.replicas = 5;
    world.partitions = 3;
    await run();
    expect(world.writes).toEqual([]);
    expect(world.events).toEqual([]);
    expect(await value(registry, 'chainlog_operator_is_leader')).toBe(0);
    expect(await value(registry, 'chainlog_operator_desired_miners')).toBe(5);
  });

  it('retries a failed reconcile and counts the error', async () => {
    const world = new World();
    const { reconciler, registry } = setup(world);
    world.failReads = 1;
    world.replicas = 3;
    reconciler.trigger('test');
    await reconciler.idle();
    expect(await value(registry, 'chainlog_operator_reconcile_errors_total')).toBe(1);
    expect(reconciler.status().last?.error).toBe('api server unreachable');
    // the retry (after 500 ms) succeeds
    await new Promise((resolve) => setTimeout(resolve, 700));
    await reconciler.idle();
    expect(world.writes).toEqual(['grow 3', 'record 3']);
    await reconciler.stop();
  });

  it('a lost scale race re-reads and decides again, without counting an error', async () => {
    const world = new World();
    const { reconciler, registry } = setup(world);
    world.partitions = 4;
    world.conflictOnce = true;
    reconciler.trigger('test');
    await reconciler.idle();
    expect(world.writes).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await reconciler.idle();
    expect(world.writes).toEqual(['scale 4', 'record 4']);
    expect(await value(registry, 'chainlog_operator_reconcile_errors_total')).toBe(0);
    await reconciler.stop();
  });
});
