import { describe, expect, it } from 'vitest';
import { TransactionIdSet } from '../../src/protocol/transaction-id-set.js';

describe('TransactionIdSet', () => {
  it('spreads ids over several Sets once one is full, and still finds all of them', () => {
    const ids = new TransactionIdSet(3);
    const added = Array.from({ length: 10 }, (_, i) => `tx-${i}`);
    for (const id of added) ids.add(id);
    expect(ids.shardCount).toBe(4);
    expect(ids.size).toBe(10);
    expect(added.every((id) => ids.has(id))).toBe(true);
    expect(ids.has('tx-10')).toBe(false);
  });

  it('rejects a shard capacity below 1', () => {
    expect(() => new TransactionIdSet(0)).toThrow(RangeError);
  });
});
