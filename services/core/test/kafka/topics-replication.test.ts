// How many copies a new topic gets from the cluster's size (pure: no broker).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { replicationFor } from '../../src/kafka/topics.js';

describe('replicationFor', () => {
  it('leaves one or two brokers to their default (one copy on a development broker)', () => {
    expect(replicationFor(1)).toEqual({ replicationFactor: -1 });
    expect(replicationFor(2, -1)).toEqual({ replicationFactor: -1 });
  });

  it('gives three copies with min.insync.replicas=2 from three brokers on', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 1000 }), (brokers) => {
        expect(replicationFor(brokers)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
      }),
    );
  });

  it('keeps an explicit factor, with min.insync.replicas=2 once there are three copies or more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 32 }), (brokers, requested) => {
        const replication = replicationFor(brokers, requested);
        expect(replication.replicationFactor).toBe(requested);
        expect(replication.minInsyncReplicas).toBe(requested >= 3 ? 2 : undefined);
      }),
    );
  });
});
