// ReadPositions (domain/read-positions.ts): how far the transactions follower has read, and the lookups that
// wait for it to reach the end offsets fetched for them (read-your-writes).
import { describe, expect, it } from 'vitest';
import { ReadPositions } from '../src/domain/read-positions.js';

const spans = [
  { partition: 0, low: 0, high: 3 },
  { partition: 1, low: 0, high: 2 },
];

describe('ReadPositions', () => {
  it('answers at once when the ends are read already (or a partition has no records left)', async () => {
    const positions = new ReadPositions();
    positions.advance(0, 3);
    expect(await positions.waitUntilRead([{ partition: 0, low: 0, high: 3 }, { partition: 1, low: 5, high: 5 }], 60_000)).toEqual([]);
    expect(positions.waiting).toBe(0);
  });

  it('releases a waiter when the last of its partitions reaches its end, not before', async () => {
    const positions = new ReadPositions();
    let settled = false;
    const waiting = positions.waitUntilRead(spans, 60_000).then((unread) => {
      settled = true;
      return unread;
    });
    positions.advance(0, 3);
    positions.advance(1, 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    // A record past the end fetched for this waiter counts too (the follower reads on).
    positions.advance(1, 5);
    expect(await waiting).toEqual([]);
    expect(positions.waiting).toBe(0);
  });

  it('gives up after the timeout with the partitions still short of their end', async () => {
    const positions = new ReadPositions();
    positions.advance(0, 2);
    expect(await positions.waitUntilRead(spans, 20)).toEqual([
      { partition: 0, position: 2, end: 3 },
      { partition: 1, position: 0, end: 2 },
    ]);
    expect(positions.waiting).toBe(0);
  });

  it('never goes back, and close() releases every waiter with what is unread', async () => {
    const positions = new ReadPositions();
    positions.advance(0, 3);
    positions.advance(0, 1);
    expect(positions.position(0)).toBe(3);
    const waiting = positions.waitUntilRead(spans, 60_000);
    positions.close();
    expect(await waiting).toEqual([{ partition: 1, position: 0, end: 2 }]);
    expect(await positions.waitUntilRead(spans, 60_000)).toEqual([{ partition: 1, position: 0, end: 2 }]);
  });

  it('serves many waiters with different ends independently', async () => {
    const positions = new ReadPositions();
    const early = positions.waitUntilRead([{ partition: 0, low: 0, high: 1 }], 60_000);
    const late = positions.waitUntilRead([{ partition: 0, low: 0, high: 10 }], 60_000);
    positions.advance(0, 1);
    expect(await early).toEqual([]);
    expect(positions.waiting).toBe(1);
    positions.advance(0, 10);
    expect(await late).toEqual([]);
  });
});
