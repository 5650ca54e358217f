import { describe, expect, it } from 'vitest';
import { RecentMiners, yieldBoundMs } from '../src/domain/turn-taking.js';

function recentOf(miners: string[], window?: number): RecentMiners {
  const recent = new RecentMiners(window);
  miners.forEach((miner, i) => recent.record(i + 1, miner));
  return recent;
}

describe('RecentMiners', () => {
  it('never yields while it is the only active miner, or before any block', () => {
    expect(new RecentMiners().shouldYield('a')).toBe(false);
    expect(recentOf(['a', 'a', 'a']).shouldYield('a')).toBe(false);
  });

  it('with two active miners, the one that mined the tip lets the other go first', () => {
    const recent = recentOf(['a', 'b', 'a']);
    expect(recent.shouldYield('a')).toBe(true);
    expect(recent.shouldYield('b')).toBe(false);
  });

  it('with three active miners, only the one that waited longest goes', () => {
    const recent = recentOf(['a', 'b', 'c', 'a', 'b']);
    expect(['a', 'b', 'c'].map((miner) => recent.shouldYield(miner))).toEqual([true, true, false]);
  });

  it('ignores genesis, and forgets miners that left the window', () => {
    const recent = new RecentMiners(3);
    recent.record(0, 'genesis');
    recent.record(1, 'b');
    recent.record(2, 'a');
    expect(recent.shouldYield('a')).toBe(true);
    recent.record(3, 'a');
    recent.record(4, 'a');
    // b's block left the window of 3: a is alone again.
    expect(recent.shouldYield('a')).toBe(false);
  });

  it('settles two always-busy miners into a rotation', () => {
    const recent = recentOf(['a', 'a', 'b']);
    const order: string[] = [];
    for (let block = 0; block < 6; block++) {
      const next = ['a', 'b'].find((miner) => !recent.shouldYield(miner)) as string;
      order.push(next);
      recent.record(10 + block, next);
    }
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });
});

describe('yieldBoundMs', () => {
  it('is twice the last cycle, at most the batching window, and the window before any cycle', () => {
    expect(yieldBoundMs(40.2, 1000)).toBe(81);
    expect(yieldBoundMs(800, 1000)).toBe(1000);
    expect(yieldBoundMs(undefined, 250)).toBe(250);
  });
});
