import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Chain,
  finalSourceLog,
  GENESIS_BLOCK,
  RecentIds,
  type ApplyResult,
  type Block,
  type ConsensusParams,
  type Transaction,
} from '../../src/protocol/index.js';
import { forge, kcatTransaction, mine, range, TOPIC } from './fixtures.js';

const W = 60_000;
const T0 = 1_700_000_000_000;
const params: ConsensusParams = { minDifficulty: 0, blockReward: 50, replayWindowMs: W };

const payment = (id: string, timestamp: number): Transaction => ({ id, from: 'alice', to: 'bob', amount: 1, timestamp });

/** A chain with genesis and one empty block at T0. */
function startedChain(chainParams: ConsensusParams = params): { chain: Chain; tip: Block } {
  const chain = new Chain(chainParams);
  const first = mine(GENESIS_BLOCK, { difficulty: 0, timestamp: T0 });
  for (const block of [GENESIS_BLOCK, first]) expect(chain.apply(block).accepted).toBe(true);
  return { chain, tip: first };
}

function reasonOf(result: ApplyResult): string {
  return result.accepted ? 'accepted' : result.reason;
}

describe('RecentIds', () => {
  it('answers has() exactly by timestamp and frees whole buckets once they are older than the cutoff', () => {
    const ids = new RecentIds(1600);
    ids.add('a', 1000);
    ids.add('b', 2000);
    ids.add('c', 5000);
    ids.expireBefore(1950);
    expect([ids.has('a'), ids.has('b'), ids.has('c')]).toEqual([false, true, true]);
    expect(ids.size).toBe(2);
    ids.expireBefore(4000);
    expect(ids.live()).toEqual([{ id: 'c', timestamp: 5000 }]);
    expect(ids.size).toBe(1);
  });

  it('keeps the newer entry when an id expired and was committed again', () => {
    const ids = new RecentIds(1600);
    ids.add('a', 1000);
    ids.expireBefore(1500);
    ids.add('a', 3000);
    ids.expireBefore(2000);
    expect(ids.has('a')).toBe(true);
    expect(ids.live()).toEqual([{ id: 'a', timestamp: 3000 }]);
  });
});

describe('Chain with a replay window', () => {
  it('refuses a client-chosen id whose timestamp is more than W before or after the block', () => {
    for (const timestamp of [T0 + 1000 - W - 1, T0 + 1000 + W + 1]) {
      const { chain, tip } = startedChain();
      const block = mine(tip, { difficulty: 0, timestamp: T0 + 1000, transactions: [payment('late', timestamp)] });
      const result = chain.apply(block);
      expect(reasonOf(result)).toBe('bad-transaction');
      expect(result.accepted ? '' : result.detail).toMatch(/replay window/);
    }
    const { chain, tip } = startedChain();
    const edges = [payment('early-edge', T0 + 1000 - W), payment('late-edge', T0 + 1000 + W)];
    expect(chain.apply(mine(tip, { difficulty: 0, timestamp: T0 + 1000, transactions: edges })).accepted).toBe(true);
  });

  it('does not apply the window to derived ids: they are unique by their position', () => {
    const { chain, tip } = startedChain();
    const old = kcatTransaction(0, 0, { timestamp: 1 });
    expect(chain.apply(mine(tip, { difficulty: 0, timestamp: T0 + 1000, transactions: [old], sources: [range(0, 0, 0)] })).accepted).toBe(true);
    expect(chain.keptTransactionIds).toBe(0);
    expect(chain.transactionCount).toBe(3); // two coinbases and the derived-id transaction
  });

  it('rejects an id again within the window, refuses the identical replay for ever, and lets the id go after W', () => {
    const { chain, tip } = startedChain();
    const original = payment('invoice-1', T0 + 500);
    const b2 = mine(tip, { difficulty: 0, timestamp: T0 + 1000, transactions: [original] });
    expect(chain.apply(b2).accepted).toBe(true);
    expect(chain.hasTransaction('invoice-1')).toBe(true);
    // Within the window, any transaction with the id is a duplicate.
    expect(reasonOf(chain.check(mine(b2, { difficulty: 0, timestamp: T0 + 2000, transactions: [payment('invoice-1', T0 + 1900)] })))).toBe('duplicate-transaction');
    expect(reasonOf(chain.check(mine(b2, { difficulty: 0, timestamp: T0 + 500 + W, transactions: [original] })))).toBe('duplicate-transaction');
    // Once the tip is more than W past its timestamp, the id is forgotten, and the identical replay is outside the window.
    const b3 = mine(b2, { difficulty: 0, timestamp: T0 + 501 + W });
    expect(chain.apply(b3).accepted).toBe(true);
    expect(chain.hasTransaction('invoice-1')).toBe(false);
    expect(chain.state()?.recentIds).toEqual([]);
    expect(reasonOf(chain.check(mine(b3, { difficulty: 0, timestamp: T0 + 502 + W, transactions: [original] })))).toBe('bad-transaction');
    // A new transaction that reuses the id after the window is a new transaction.
    expect(chain.check(mine(b3, { difficulty: 0, timestamp: T0 + 502 + W, transactions: [payment('invoice-1', T0 + 502 + W)] })).accepted).toBe(true);
  });

  it('source coverage: a record outside the window must be skipped as out-of-window, and only such a record', () => {
    const { chain, tip } = startedChain();
    const record = (offset: number, timestamp: number) => ({
      offset,
      value: Buffer.from(JSON.stringify(payment(`p-${offset}`, timestamp))),
      timestamp: T0,
    });
    const log = finalSourceLog(TOPIC, new Map([[0, [record(0, T0 + 1000 - W - 5), record(1, T0 + 900)]]]));
    const honest = mine(tip, {
      difficulty: 0,
      timestamp: T0 + 1000,
      transactions: [payment('p-1', T0 + 900)],
      sources: [{ ...range(0, 0, 1), skipped: [{ offset: 0, reason: 'out-of-window' }] }],
    });
    const asDuplicate = forge(honest, { sources: [{ ...range(0, 0, 1), skipped: [{ offset: 0, reason: 'duplicate' }] }] }, undefined);
    const wronglySkipped = forge(honest, { transactions: [honest.transactions[0] as Transaction], sources: [{ ...range(0, 0, 1), skipped: [{ offset: 0, reason: 'out-of-window' }, { offset: 1, reason: 'out-of-window' }] }] }, undefined);
    expect(reasonOf(chain.check(asDuplicate))).toBe('accepted'); // check() does not read the log
    expect(reasonOf(startedChain().chain.apply(asDuplicate, log))).toBe('bad-source-coverage');
    expect(reasonOf(startedChain().chain.apply(wronglySkipped, log))).toBe('bad-source-coverage');
    expect(reasonOf(chain.apply(honest, log))).toBe('accepted');
  });

  it('rejects a window that is not a positive integer', () => {
    expect(() => new Chain({ ...params, replayWindowMs: 0 })).toThrow(/replayWindowMs/);
    expect(() => new Chain({ ...params, replayWindowMs: 1.5 })).toThrow(/replayWindowMs/);
  });
});

/**
 * The rule as docs/protocol.md §2.5 states it, over the whole history (nothing forgotten): the verdict the
 * bounded chain must reach for every block, and the set size it may keep.
 */
class ReferenceModel {
  readonly committed: { id: string; timestamp: number }[] = [];
  tipTimestamp = T0;

  verdict(block: Block): string {
    const users = block.transactions.slice(1);
    if (users.some(({ timestamp }) => timestamp < block.timestamp - W || timestamp > block.timestamp + W)) return 'bad-transaction';
    const seen = new Set<string>();
    for (const { id } of users) {
      if (seen.has(id) || this.committed.some((entry) => entry.id === id && entry.timestamp >= this.tipTimestamp - W)) return 'duplicate-transaction';
      seen.add(id);
    }
    return 'accepted';
  }

  commit(block: Block): void {
    for (const { id, timestamp } of block.transactions.slice(1)) this.committed.push({ id, timestamp });
    this.tipTimestamp = block.timestamp;
  }

  /** Distinct ids a bounded reader may still hold: 1/16 of W of slack for the expiry buckets. */
  maxKept(): number {
    return new Set(this.committed.filter(({ timestamp }) => timestamp >= this.tipTimestamp - W - W / 16).map(({ id }) => id)).size;
  }
}

const step = fc.record({
  advance: fc.integer({ min: 0, max: 2 * W }),
  transactions: fc.array(fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e'), skew: fc.integer({ min: -1.5 * W, max: 1.5 * W }) }), { maxLength: 4 }),
});

describe('Chain with a replay window: property', () => {
  it('decides every block as the unbounded rule does, never accepts a replay, and keeps only the window ids', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), (steps) => {
        const { chain, tip } = startedChain();
        const model = new ReferenceModel();
        let previous = tip;
        for (const { advance, transactions } of steps) {
          const timestamp = previous.timestamp + advance;
          const block = mine(previous, { difficulty: 0, timestamp, transactions: transactions.map(({ id, skew }) => payment(id, timestamp + skew)) });
          const expected = model.verdict(block);
          const result = chain.apply(block);
          expect(reasonOf(result)).toBe(expected);
          if (result.accepted) {
            model.commit(block);
            previous = block;
          }
          expect(chain.keptTransactionIds).toBeLessThanOrEqual(model.maxKept());
          // No identical copy of a committed transaction is ever accepted again.
          for (const committed of model.committed.slice(-3)) {
            const replay = mine(previous, { difficulty: 0, timestamp: previous.timestamp + advance, transactions: [payment(committed.id, committed.timestamp)] });
            expect(chain.check(replay).accepted).toBe(false);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
