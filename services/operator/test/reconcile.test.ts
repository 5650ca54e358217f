// The pure reconcile decision: the rules by example, then properties over every observation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, MUTATING, partitionBaseline, unownedPartitions, type Action, type Observation } from '../src/domain/reconcile.js';

const base: Observation = {
  replicas: 2,
  readyReplicas: 2,
  partitions: 2,
  observedPartitions: 2,
  configuredPartitions: 2,
  leader: true,
  maxPartitions: 1024,
};

function kinds(observation: Partial<Observation>): string[] {
  return decide({ ...base, ...observation }).actions.map((action) => action.kind);
}

describe('decide: the rules', () => {
  it('does nothing when miners and partitions match and the count is recorded', () => {
    expect(decide(base)).toEqual({ situation: 'matched', actions: [] });
  });

  it('waits without a StatefulSet or a topic, and never acts when not the leader', () => {
    expect(decide({ ...base, replicas: undefined })).toEqual({ situation: 'statefulset-missing', actions: [] });
    expect(decide({ ...base, partitions: undefined })).toEqual({ situation: 'topic-missing', actions: [] });
    expect(decide({ ...base, replicas: 6, leader: false })).toEqual({ situation: 'not-leader', actions: [] });
  });

  it('kubectl scale above the partition count grows the partitions to the replicas, then records them', () => {
    expect(decide({ ...base, replicas: 4 })).toEqual({
      situation: 'miners-above-partitions',
      actions: [
        { kind: 'grow-partitions', from: 2, to: 4 },
        { kind: 'record-partitions', partitions: 4 },
      ],
    });
  });

  it('partitions grown outside the chart scale the StatefulSet up to match', () => {
    expect(decide({ ...base, partitions: 5 })).toEqual({
      situation: 'partitions-grew',
      actions: [
        { kind: 'scale-miners', from: 2, to: 5 },
        { kind: 'record-partitions', partitions: 5 },
      ],
    });
  });

  it('miners scaled below an unchanged partition count are reported, not fought', () => {
    expect(decide({ ...base, replicas: 1, partitions: 4, observedPartitions: 4 })).toEqual({
      situation: 'miners-below-partitions',
      actions: [{ kind: 'report-scale-down', replicas: 1, partitions: 4 }],
    });
    // miners scaled to zero: still only a report
    expect(kinds({ replicas: 0, partitions: 4, observedPartitions: 4 })).toEqual(['report-scale-down']);
  });

  it('without a record, the chart configured partition count is the baseline', () => {
    // The chart asked for 6 partitions and 3 miners (miner.replicas): a choice, reported.
    expect(kinds({ replicas: 3, partitions: 6, observedPartitions: undefined, configuredPartitions: 6 })).toEqual(['report-scale-down', 'record-partitions']);
    // The chart asked for 2, the topic has 6: they grew outside the chart.
    expect(kinds({ replicas: 2, partitions: 6, observedPartitions: undefined, configuredPartitions: 2 })).toEqual(['scale-miners', 'record-partitions']);
    // Neither a record nor a configured count: first sight, nothing grew.
    expect(kinds({ replicas: 2, partitions: 6, observedPartitions: undefined, configuredPartitions: undefined })).toEqual(['report-scale-down', 'record-partitions']);
  });

  it('a record above the current count (a recreated topic) is no baseline', () => {
    expect(partitionBaseline({ partitions: 3, observedPartitions: 8, configuredPartitions: undefined })).toBe(3);
    expect(kinds({ replicas: 2, partitions: 3, observedPartitions: 8 })).toEqual(['report-scale-down', 'record-partitions']);
  });

  it('after the miners were scaled down, new partitions scale them up to match again', () => {
    expect(decide({ ...base, replicas: 2, partitions: 6, observedPartitions: 4 }).actions).toEqual([
      { kind: 'scale-miners', from: 2, to: 6 },
      { kind: 'record-partitions', partitions: 6 },
    ]);
  });

  it('never goes beyond maxPartitions, and says so', () => {
    expect(decide({ ...base, replicas: 5000, maxPartitions: 100 }).actions).toEqual([
      { kind: 'grow-partitions', from: 2, to: 100 },
      { kind: 'report-partition-limit', wanted: 5000, limit: 100 },
      { kind: 'record-partitions', partitions: 100 },
    ]);
    expect(decide({ ...base, partitions: 300, observedPartitions: 2, maxPartitions: 100 }).actions).toEqual([
      { kind: 'scale-miners', from: 2, to: 100 },
      { kind: 'report-partition-limit', wanted: 300, limit: 100 },
      { kind: 'report-scale-down', replicas: 100, partitions: 300 },
      { kind: 'record-partitions', partitions: 300 },
    ]);
  });

  it('unowned partitions: partitions without a ready miner of their own', () => {
    expect(unownedPartitions(6, 2)).toBe(4);
    expect(unownedPartitions(2, 6)).toBe(0);
    expect(unownedPartitions(4, 0)).toBe(4);
    expect(unownedPartitions(undefined, 3)).toBe(0);
  });
});

// --- Properties --------------------------------------------------------------------------------------

const count = fc.integer({ min: 0, max: 300 });
const positive = fc.integer({ min: 1, max: 300 });
const observations: fc.Arbitrary<Observation> = fc.record({
  replicas: fc.option(count, { nil: undefined }),
  readyReplicas: count,
  partitions: fc.option(positive, { nil: undefined }),
  observedPartitions: fc.option(positive, { nil: undefined }),
  configuredPartitions: fc.option(positive, { nil: undefined }),
  leader: fc.boolean(),
  maxPartitions: fc.integer({ min: 1, max: 400 }),
});

/** The world after the actions were carried out. */
function apply(observation: Observation, actions: Action[]): Observation {
  const next = { ...observation };
  for (const action of actions) {
    if (action.kind === 'grow-partitions') next.partitions = action.to;
    if (action.kind === 'scale-miners') next.replicas = action.to;
    if (action.kind === 'record-partitions') next.observedPartitions = action.partitions;
  }
  return next;
}

const mutating = (actions: Action[]): Action[] => actions.filter((action) => MUTATING.has(action.kind));

describe('decide: properties', () => {
  it('only the leader acts, and only with a StatefulSet and a topic', () => {
    fc.assert(
      fc.property(observations, (observation) => {
        const { actions } = decide(observation);
        if (!observation.leader || observation.replicas === undefined || observation.partitions === undefined) expect(actions).toEqual([]);
      }),
    );
  });

  it('partitions only grow, miners only scale up, never beyond maxPartitions', () => {
    fc.assert(
      fc.property(observations, (observation) => {
        for (const action of decide(observation).actions) {
          if (action.kind === 'grow-partitions') {
            expect(action.from).toBe(observation.partitions);
            expect(action.to).toBeGreaterThan(action.from);
            expect(action.to).toBeLessThanOrEqual(observation.maxPartitions);
            expect(action.to).toBeLessThanOrEqual(observation.replicas as number);
          }
          if (action.kind === 'scale-miners') {
            expect(action.from).toBe(observation.replicas);
            expect(action.to).toBeGreaterThan(action.from);
            expect(action.to).toBeLessThanOrEqual(observation.maxPartitions);
            expect(action.to).toBeLessThanOrEqual(observation.partitions as number);
          }
        }
      }),
    );
  });

  it('is idempotent: once its actions are done, the next decision changes nothing', () => {
    fc.assert(
      fc.property(observations, (observation) => {
        const after = apply(observation, decide(observation).actions);
        expect(mutating(decide(after).actions)).toEqual([]);
      }),
    );
  });

  it('never fights a scale-down: with partitions unchanged since the baseline, the miners are never scaled', () => {
    fc.assert(
      fc.property(observations, (observation) => {
        const baseline = partitionBaseline(observation);
        if (baseline !== undefined && observation.partitions === baseline) {
          expect(decide(observation).actions.some((action) => action.kind === 'scale-miners')).toBe(false);
        }
      }),
    );
  });

  it('a leader ends matched, or with fewer miners than partitions reported, or at the limit reported', () => {
    fc.assert(
      fc.property(observations, (observation) => {
        const { actions } = decide(observation);
        if (!observation.leader || observation.replicas === undefined || observation.partitions === undefined) return;
        const after = apply(observation, actions);
        const replicas = after.replicas as number;
        const partitions = after.partitions as number;
        expect(after.observedPartitions).toBe(partitions);
        const reportedBelow = actions.some((action) => action.kind === 'report-scale-down');
        const reportedLimit = actions.some((action) => action.kind === 'report-partition-limit');
        if (replicas < partitions) expect(reportedBelow).toBe(true);
        if (replicas > partitions) expect(reportedLimit).toBe(true);
        if (replicas === partitions) expect(reportedBelow).toBe(false);
      }),
    );
  });

  it('the partitions that grew since the baseline always get miners (up to the limit)', () => {
    fc.assert(
      fc.property(observations, (observation) => {
        const baseline = partitionBaseline(observation);
        if (!observation.leader || observation.replicas === undefined || observation.partitions === undefined || baseline === undefined) return;
        if (observation.partitions <= baseline) return;
        const after = apply(observation, decide(observation).actions);
        expect(after.replicas).toBeGreaterThanOrEqual(Math.min(observation.partitions, observation.maxPartitions));
      }),
    );
  });
});
