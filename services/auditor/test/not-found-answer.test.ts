// When a transaction lookup that found nothing may say `unknown` (domain/not-found-answer.ts), and the pending
// tracker's count of the pending transactions it does not index (which a lookup cannot rule out).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notFoundAnswer, type PartitionSpan, recordsBehind, unreadPartitions } from '../src/domain/not-found-answer.js';
import { PendingTracker } from '../src/domain/pending-tracker.js';
import { memoryRefusalLog } from './support/refusal-log.js';

const positions = (map: Record<number, number>) => (partition: number) => map[partition] ?? 0;

describe('unreadPartitions', () => {
  it('lists the partitions the follower has not read up to their end', () => {
    const spans: PartitionSpan[] = [
      { partition: 0, low: 0, high: 10 },
      { partition: 1, low: 0, high: 5 },
      { partition: 2, low: 0, high: 0 },
    ];
    expect(unreadPartitions(spans, positions({ 0: 10, 1: 3 }))).toEqual([{ partition: 1, position: 3, end: 5 }]);
    expect(unreadPartitions(spans, positions({ 0: 11, 1: 5 }))).toEqual([]);
    expect(unreadPartitions(spans, positions({}))).toEqual([
      { partition: 0, position: 0, end: 10 },
      { partition: 1, position: 0, end: 5 },
    ]);
  });

  it('takes records deleted by retention (below low) as read, but not the ones still there', () => {
    expect(unreadPartitions([{ partition: 0, low: 7, high: 7 }], positions({}))).toEqual([]);
    expect(unreadPartitions([{ partition: 0, low: 7, high: 9 }], positions({}))).toEqual([{ partition: 0, position: 0, end: 9 }]);
    expect(unreadPartitions([{ partition: 0, low: 7, high: 9 }], positions({ 0: 8 }))).toEqual([{ partition: 0, position: 8, end: 9 }]);
  });

  it('is empty exactly when every partition with records left is read to its end (property)', () => {
    const span = fc.record({ low: fc.nat(1000), length: fc.nat(1000), position: fc.nat(2500) });
    fc.assert(
      fc.property(fc.array(span, { maxLength: 8 }), (drawn) => {
        const spans = drawn.map(({ low, length }, partition) => ({ partition, low, high: low + length }));
        const at = (partition: number) => drawn[partition]?.position ?? 0;
        const unread = unreadPartitions(spans, at);
        const expected = spans.filter(({ partition, low, high }) => high > low && at(partition) < high).map(({ partition }) => partition);
        expect(unread.map(({ partition }) => partition)).toEqual(expected);
        expect(recordsBehind(unread)).toBe(unread.reduce((sum, { position, end }) => sum + end - position, 0));
      }),
    );
  });
});

describe('notFoundAnswer', () => {
  const read = { outcome: 'read' } as const;

  it('answers index-building first: no check of the topic can rule out a block not indexed yet', () => {
    expect(notFoundAnswer({ indexComplete: false, read: undefined, untrackedPending: 0 })).toEqual({ answer: 'index-building' });
    expect(notFoundAnswer({ indexComplete: false, read, untrackedPending: 0 })).toEqual({ answer: 'index-building' });
  });

  it('checks the transactions topic before it says unknown', () => {
    expect(notFoundAnswer({ indexComplete: true, read: undefined, untrackedPending: 0 })).toEqual({ answer: 'check-topic' });
    expect(notFoundAnswer({ indexComplete: true, read, untrackedPending: 0 })).toEqual({ answer: 'unknown' });
  });

  it('answers pending-catching-up when the follower did not read up to the ends, with how far it is', () => {
    const behind = { outcome: 'behind', unread: [{ partition: 0, position: 3, end: 10 }, { partition: 4, position: 0, end: 2 }] } as const;
    expect(notFoundAnswer({ indexComplete: true, read: behind, untrackedPending: 0 })).toMatchObject({
      answer: 'pending-catching-up',
      partitionsBehind: 2,
      recordsBehind: 9,
    });
  });

  it('answers pending-catching-up when the end offsets could not be fetched, naming why', () => {
    const answer = notFoundAnswer({ indexComplete: true, read: { outcome: 'unreachable', detail: 'the broker did not answer within 2000 ms' }, untrackedPending: 0 });
    expect(answer).toMatchObject({ answer: 'pending-catching-up', partitionsBehind: 0, recordsBehind: 0 });
    expect(answer.answer === 'pending-catching-up' && answer.reason).toContain('did not answer within 2000 ms');
  });

  it('answers pending-untracked when the tracker holds pending transactions whose ids it does not index', () => {
    expect(notFoundAnswer({ indexComplete: true, read, untrackedPending: 3 })).toEqual({ answer: 'pending-untracked', untrackedPending: 3 });
  });

  it('says unknown only with a complete index, a read topic and every pending id indexed (property)', () => {
    const reads = fc.constantFrom(
      undefined,
      { outcome: 'read' } as const,
      { outcome: 'behind', unread: [{ partition: 0, position: 0, end: 1 }] } as const,
      { outcome: 'unreachable', detail: 'down' } as const,
    );
    fc.assert(
      fc.property(fc.boolean(), reads, fc.nat(3), (indexComplete, topic, untrackedPending) => {
        const { answer } = notFoundAnswer({ indexComplete, read: topic, untrackedPending });
        expect(answer === 'unknown').toBe(indexComplete && topic?.outcome === 'read' && untrackedPending === 0);
      }),
    );
  });
});

describe('PendingTracker.untrackedPending', () => {
  const chain = { hasTransaction: () => false, lastSourceOffset: () => undefined };

  it('counts pending transactions beyond the track limit until a block covers them', () => {
    const tracker = new PendingTracker({ topic: 't', chain, refusals: memoryRefusalLog(), trackLimit: 2 });
    tracker.observe(0, 0, 'a', 1);
    tracker.observe(0, 1, 'b', 1);
    expect(tracker.untrackedPending).toBe(0);
    tracker.observe(0, 2, 'c', 1);
    tracker.observe(0, 3, 'a', 1);
    // 'c' cannot be found; the second copy of 'a' can (its first copy is indexed).
    expect(tracker.untrackedPending).toBe(1);
    expect(tracker.status('c')).toBeUndefined();
    tracker.onBlock({ transactions: [], sources: [{ topic: 't', partition: 0, firstOffset: 0, lastOffset: 2 }] } as never);
    expect(tracker.untrackedPending).toBe(0);
    expect(tracker.totalPending).toBe(1);
  });
});
