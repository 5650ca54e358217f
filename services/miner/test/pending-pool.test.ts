// The pending pool against a model: whatever order of assignments, deliveries (with redeliveries and
// offset gaps), canonical blocks and revocations, it holds exactly the uncovered messages of each owned
// partition, in offset order, oldest first across partitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toTransaction } from '@chainlog/core/protocol';
import { PendingPool, type PendingEntry } from '../src/domain/pending-pool.js';

const TOPIC = 'transactions';

function entry(partition: number, offset: number, poison = false, receivedAt = 0): PendingEntry {
  if (poison) return { kind: 'poison', partition, offset, receivedAt, skip: { reason: 'malformed', detail: 'not json' } };
  const transaction = toTransaction({ from: 'alice', to: 'bob', amount: 3 }, { topic: TOPIC, partition, offset, timestamp: 1 });
  return { kind: 'transaction', partition, offset, receivedAt, transaction };
}

describe('PendingPool', () => {
  it('accepts a partition’s messages from its resume offset on, once each, and drops what blocks cover', () => {
    const pool = new PendingPool();
    expect(pool.offer(entry(0, 0))).toBe('not-owned');
    pool.assign(0, 5);
    expect(pool.offer(entry(0, 4))).toBe('already-seen');
    expect(pool.offer(entry(0, 5))).toBe('added');
    expect(pool.offer(entry(0, 5))).toBe('already-seen');
    expect(pool.offer(entry(0, 7, true))).toBe('added'); // offset 6 was a control record: a legitimate gap
    expect(pool.offer(entry(0, 8))).toBe('added');
    expect([pool.size(0), pool.transactionCount(0), pool.nextOffset(0)]).toEqual([3, 2, 9]);

    expect(pool.advance(0, 7)).toBe(2);
    expect(pool.entries().map((e) => e.offset)).toEqual([8]);
    expect(pool.transactionCount()).toBe(1);

    // Another miner's block covered offsets this miner has not even read yet.
    pool.advance(0, 20);
    expect([pool.size(0), pool.nextOffset(0)]).toEqual([0, 21]);
    expect(pool.offer(entry(0, 15))).toBe('already-seen');

    pool.revoke(0);
    expect([pool.owns(0), pool.nextOffset(0), pool.partitions()]).toEqual([false, undefined, []]);
  });

  it('reports the oldest pending entry for the block timer', () => {
    const pool = new PendingPool();
    pool.assign(0, 0);
    pool.assign(1, 0);
    expect(pool.oldestReceivedAt()).toBeUndefined();
    pool.offer(entry(1, 0, false, 200));
    pool.offer(entry(0, 0, false, 300));
    expect(pool.oldestReceivedAt()).toBe(200);
    pool.advance(1, 0);
    expect(pool.oldestReceivedAt()).toBe(300);
  });

  type Command =
    | { type: 'assign'; partition: number; resume: number }
    | { type: 'deliver'; partition: number; from: number; count: number; gapEvery: number; poisonEvery: number }
    | { type: 'block'; partition: number; upTo: number }
    | { type: 'revoke'; partition: number };

  const partition = fc.integer({ min: 0, max: 3 });
  const command: fc.Arbitrary<Command> = fc.oneof(
    fc.record({ type: fc.constant('assign' as const), partition, resume: fc.integer({ min: 0, max: 30 }) }),
    fc.record({
      type: fc.constant('deliver' as const),
      partition,
      // Deliveries start anywhere: before the resume offset (redelivery) or after (a gap in the log).
      from: fc.integer({ min: 0, max: 60 }),
      count: fc.integer({ min: 1, max: 8 }),
      gapEvery: fc.integer({ min: 0, max: 4 }),
      poisonEvery: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({ type: fc.constant('block' as const), partition, upTo: fc.integer({ min: 0, max: 80 }) }),
    fc.record({ type: fc.constant('revoke' as const), partition }),
  );

  it('keeps its invariants under any sequence of assignments, deliveries, blocks and revocations', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const pool = new PendingPool();
        // The model: per owned partition, the floor (next offset) and the pending offsets with their arrival number.
        const model = new Map<number, { next: number; pending: { offset: number; seq: number; poison: boolean }[] }>();
        let seq = 0;
        for (const cmd of commands) {
          switch (cmd.type) {
            case 'assign':
              pool.assign(cmd.partition, cmd.resume);
              model.set(cmd.partition, { next: cmd.resume, pending: [] });
              break;
            case 'revoke':
              pool.revoke(cmd.partition);
              model.delete(cmd.partition);
              break;
            case 'block': {
              pool.advance(cmd.partition, cmd.upTo);
              const state = model.get(cmd.partition);
              if (state) {
                state.pending = state.pending.filter((p) => p.offset > cmd.upTo);
                state.next = Math.max(state.next, cmd.upTo + 1);
              }
              break;
            }
            case 'deliver': {
              let offset = cmd.from;
              for (let i = 0; i < cmd.count; i++, offset++) {
                if (cmd.gapEvery > 0 && i % cmd.gapEvery === cmd.gapEvery - 1) offset++;
                const poison = cmd.poisonEvery > 0 && i % cmd.poisonEvery === 0;
                const result = pool.offer(entry(cmd.partition, offset, poison));
                const state = model.get(cmd.partition);
                const expected = state === undefined ? 'not-owned' : offset < state.next ? 'already-seen' : 'added';
                expect(result).toBe(expected);
                if (state && expected === 'added') {
                  state.pending.push({ offset, seq: seq++, poison });
                  state.next = offset + 1;
                }
              }
              break;
            }
          }
          expect(pool.partitions()).toEqual([...model.keys()].sort((a, b) => a - b));
          for (const [p, state] of model) {
            expect(pool.nextOffset(p)).toBe(state.next);
            expect(pool.size(p)).toBe(state.pending.length);
            expect(pool.transactionCount(p)).toBe(state.pending.filter((x) => !x.poison).length);
          }
          const expectedOrder = [...model]
            .flatMap(([p, state]) => state.pending.map((x) => ({ partition: p, offset: x.offset, seq: x.seq })))
            .sort((a, b) => a.seq - b.seq)
            .map(({ partition: p, offset }) => [p, offset]);
          expect(pool.entries().map((e) => [e.partition, e.offset])).toEqual(expectedOrder);
        }
      }),
    );
  });

  it('reports the oldest pending transaction timestamp, poison aside, and forgets it once covered', () => {
    const pool = new PendingPool();
    const at = (partition: number, offset: number, timestamp: number): PendingEntry => ({
      kind: 'transaction',
      partition,
      offset,
      receivedAt: 0,
      transaction: toTransaction({ id: `t-${partition}-${offset}`, from: 'alice', to: 'bob', amount: 3, timestamp }, { topic: TOPIC, partition, offset, timestamp }),
    });
    expect(pool.oldestTransactionTimestamp()).toBeUndefined();
    pool.assign(0, 0);
    pool.assign(1, 0);
    pool.offer(entry(0, 0, true));
    expect(pool.oldestTransactionTimestamp()).toBeUndefined();
    // Client timestamps need not follow offsets: the oldest may sit behind a newer one.
    pool.offer(at(0, 1, 5000));
    pool.offer(at(0, 2, 3000));
    pool.offer(at(1, 0, 4000));
    expect(pool.oldestTransactionTimestamp()).toBe(3000);
    pool.advance(0, 2);
    expect(pool.oldestTransactionTimestamp()).toBe(4000);
    pool.revoke(1);
    expect(pool.oldestTransactionTimestamp()).toBeUndefined();
  });
});
