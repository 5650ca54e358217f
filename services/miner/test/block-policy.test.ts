// When blocks are cut and what they contain; the contents are checked against the protocol's Chain.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  assembleBlock,
  type Block,
  canonicalTransactionJson,
  Chain,
  encodeBlock,
  type ConsensusParams,
  finalSourceLog,
  GENESIS_BLOCK,
  sealBlock,
  searchNonce,
  signerFromSeed,
  signTransaction,
  type SourceRange,
  toTransaction,
  type Transaction,
} from '@chainlog/core/protocol';
import { cutDecision, entryBytes, selectBlockContents, SKIP_RECORD_BYTES } from '../src/domain/block-policy.js';
import type { PendingEntry } from '../src/domain/pending-pool.js';

const TOPIC = 'transactions';
const policy = { maxTransactions: 3, maxWaitMs: 1000 };
/** Take limits with a byte bound no test block reaches, unless given. */
const take = (maxTransactions: number, maxBytes = 1_000_000) => ({ maxTransactions, maxBytes });

describe('cutDecision', () => {
  it('waits while nothing is pending', () => {
    expect(cutDecision({ transactions: 0, entries: 0, oldestReceivedAt: undefined }, 5000, policy)).toEqual({ cut: false, wakeInMs: undefined });
  });

  it('cuts at maxTransactions at once, and otherwise when the oldest entry has waited maxWaitMs', () => {
    expect(cutDecision({ transactions: 3, entries: 3, oldestReceivedAt: 4999 }, 5000, policy)).toEqual({ cut: true });
    expect(cutDecision({ transactions: 2, entries: 2, oldestReceivedAt: 4700 }, 5000, policy)).toEqual({ cut: false, wakeInMs: 700 });
    expect(cutDecision({ transactions: 2, entries: 2, oldestReceivedAt: 4000 }, 5000, policy)).toEqual({ cut: true });
    // Only poison pending: its range still gets covered once the timer runs out.
    expect(cutDecision({ transactions: 0, entries: 1, oldestReceivedAt: 3000 }, 5000, policy)).toEqual({ cut: true });
  });

  it('cuts exactly when enough transactions are pending or the oldest has waited long enough', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 3000 }),
        (transactions, poison, age, maxTransactions, maxWaitMs) => {
          const entries = transactions + poison;
          const decision = cutDecision({ transactions, entries, oldestReceivedAt: entries > 0 ? 10_000 - age : undefined }, 10_000, {
            maxTransactions,
            maxWaitMs,
          });
          const expected = entries > 0 && (transactions >= maxTransactions || age >= maxWaitMs);
          expect(decision.cut).toBe(expected);
          if (!decision.cut && entries > 0) expect(decision.wakeInMs).toBe(maxWaitMs - age);
        },
      ),
    );
  });
});

function tx(partition: number, offset: number, id?: string): Transaction {
  return toTransaction({ from: 'alice', to: 'bob', amount: 3, ...(id ? { id } : {}) }, { topic: TOPIC, partition, offset, timestamp: 1000 });
}

function txEntry(partition: number, offset: number, id?: string): PendingEntry {
  return { kind: 'transaction', partition, offset, receivedAt: 0, transaction: tx(partition, offset, id) };
}

function poisonEntry(partition: number, offset: number): PendingEntry {
  return { kind: 'poison', partition, offset, receivedAt: 0, skip: { reason: 'malformed', detail: 'not json' } };
}

/** A chain at difficulty 0 with genesis and (optionally) one block covering the given prefixes. */
function chainWith(prefixes: { partition: number; lastOffset: number; ids: string[] }[]): { chain: Chain; tip: Block } {
  const chain = new Chain({ minDifficulty: 0, blockReward: 50 });
  chain.apply(GENESIS_BLOCK);
  if (prefixes.length === 0) return { chain, tip: GENESIS_BLOCK };
  const block = mine(GENESIS_BLOCK, prefixes.flatMap(({ partition, ids }) => ids.map((id, i) => tx(partition, i, id))), prefixes.map(({ partition, lastOffset }) => ({ topic: TOPIC, partition, firstOffset: 0, lastOffset })));
  const result = chain.apply(block);
  if (!result.accepted) throw new Error(`fixture block rejected: ${result.reason} ${result.detail}`);
  return { chain, tip: block };
}

function mine(previous: Block, transactions: Transaction[], sources: SourceRange[]): Block {
  const candidate = assembleBlock({ previous, transactions, sources, miner: 'miner-a', timestamp: previous.timestamp + 1, difficulty: 0, reward: 50 });
  return sealBlock(candidate, searchNonce(candidate.headerDigest, 0, 0, 1) as number);
}

describe('selectBlockContents', () => {
  it('takes the oldest transactions up to the limit, covering poison and duplicates on the way', () => {
    const { chain } = chainWith([{ partition: 0, lastOffset: 1, ids: ['in-chain'] }]);
    const entries = [txEntry(0, 2, 'in-chain'), poisonEntry(1, 0), txEntry(0, 3, 'a'), txEntry(1, 1, 'a'), txEntry(1, 2, 'b'), txEntry(0, 4, 'c'), txEntry(0, 5, 'd')];
    const contents = selectBlockContents(entries, chain, TOPIC, take(3));
    // Block order: partition 0 then 1, so the second 'a' (partition 1) is the duplicate.
    expect(contents.transactions.map((t) => t.id)).toEqual(['a', 'c', 'b']);
    expect(contents.duplicates.map((t) => t.id)).toEqual(['in-chain', 'a']);
    expect([contents.poison, contents.covered]).toEqual([1, 6]);
    expect(contents.sources).toEqual([
      { topic: TOPIC, partition: 0, firstOffset: 2, lastOffset: 4, skipped: [{ offset: 2, reason: 'duplicate' }] },
      {
        topic: TOPIC,
        partition: 1,
        firstOffset: 0,
        lastOffset: 2,
        skipped: [
          { offset: 0, reason: 'malformed' },
          { offset: 1, reason: 'duplicate' },
        ],
      },
    ]);
  });

  it('with a replay window, skips client-chosen ids outside it as out-of-window (before duplicates), and the chain accepts the block', () => {
    const windowMs = 1000;
    const chain = new Chain({ minDifficulty: 0, blockReward: 50, replayWindowMs: windowMs });
    chain.apply(GENESIS_BLOCK);
    const at = (partition: number, offset: number, id: string | undefined, timestamp: number): PendingEntry => ({
      kind: 'transaction',
      partition,
      offset,
      receivedAt: 0,
      transaction: toTransaction({ from: 'alice', to: 'bob', amount: 3, timestamp, ...(id ? { id } : {}) }, { topic: TOPIC, partition, offset, timestamp }),
    });
    const blockTime = 5000;
    const entries = [at(0, 0, 'old', blockTime - windowMs - 1), at(0, 1, 'ok', blockTime), at(0, 2, 'future', blockTime + windowMs + 1), at(0, 3, undefined, 1), at(0, 4, 'ok', 1)];
    const contents = selectBlockContents(entries, chain, TOPIC, take(10), { timestamp: blockTime, windowMs });
    expect(contents.transactions.map((t) => t.id)).toEqual(['ok', 'tx:transactions:0:3']);
    expect(contents.outOfWindow.map((t) => t.id)).toEqual(['old', 'future', 'ok']);
    expect(contents.sources[0]?.skipped).toEqual([
      { offset: 0, reason: 'out-of-window' },
      { offset: 2, reason: 'out-of-window' },
      { offset: 4, reason: 'out-of-window' },
    ]);
    const candidate = assembleBlock({ previous: GENESIS_BLOCK, transactions: contents.transactions, sources: contents.sources, miner: 'm', timestamp: blockTime, difficulty: 0, reward: 50 });
    const verdict = chain.check(sealBlock(candidate, 0));
    expect(verdict.accepted ? 'accepted' : verdict.detail).toBe('accepted');
  });

  it('refuses entries the chain already covers (mining them would fork the ranges)', () => {
    const { chain } = chainWith([{ partition: 0, lastOffset: 3, ids: ['x'] }]);
    expect(() => selectBlockContents([txEntry(0, 3)], chain, TOPIC, take(3))).toThrow(/already covered/);
  });

  // Pending entries as a miner would hold them: per partition, offsets from the chain's resume offset
  // upwards (with gaps), ids drawn from a small set so that duplicates (in the chain, within the pool) occur.
  const scenario = fc
    .record({
      chainPrefix: fc.array(fc.record({ partition: fc.integer({ min: 0, max: 2 }), lastOffset: fc.integer({ min: 0, max: 4 }) }), { maxLength: 3 }),
      chainIds: fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 3 }),
      pending: fc.array(
        fc.record({
          partition: fc.integer({ min: 0, max: 2 }),
          gap: fc.integer({ min: 0, max: 2 }),
          kind: fc.constantFrom('derived', 'named', 'poison'),
          id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
        }),
        { maxLength: 14 },
      ),
      max: fc.integer({ min: 1, max: 5 }),
      // From below one entry (at least one is still taken) to more than any scenario needs.
      maxBytes: fc.integer({ min: 1, max: 3000 }),
    })
    .map(({ chainPrefix, chainIds, pending, max, maxBytes }) => {
      const prefixes = [...new Map(chainPrefix.map((p) => [p.partition, p])).values()].map((p, i) => ({
        ...p,
        ids: i === 0 ? chainIds : [],
      }));
      const next = new Map(prefixes.map((p) => [p.partition, p.lastOffset + 1]));
      const entries = pending.map(({ partition, gap, kind, id }): PendingEntry => {
        const offset = (next.get(partition) ?? 0) + gap;
        next.set(partition, offset + 1);
        if (kind === 'poison') return poisonEntry(partition, offset);
        return txEntry(partition, offset, kind === 'named' ? id : undefined);
      });
      return { prefixes, entries, max, maxBytes };
    });

  it('always yields a block the chain accepts, losing no entry it passes over', () => {
    fc.assert(
      fc.property(scenario, ({ prefixes, entries, max, maxBytes }) => {
        const { chain, tip } = chainWith(prefixes);
        const contents = selectBlockContents(entries, chain, TOPIC, take(max, maxBytes));
        expect(contents.transactions.length).toBeLessThanOrEqual(max);
        const lastOf = new Map(contents.sources.map((s) => [s.partition, s.lastOffset]));
        const covered = entries.filter((e) => e.offset <= (lastOf.get(e.partition) ?? -1));
        // Covered entries are exactly what the block includes, skips as duplicates, or skips as poison.
        expect(covered).toHaveLength(contents.covered);
        expect(contents.transactions.length + contents.duplicates.length + contents.outOfWindow.length + contents.poison).toBe(covered.length);
        // Each partition contributes a prefix of its entries, i.e. a prefix of the arrival order.
        expect(entries.slice(0, covered.length)).toEqual(covered);
        // Every covered entry is a transaction of the block or listed as skipped, in block order.
        const skippedCount = contents.sources.reduce((n, s) => n + (s.skipped?.length ?? 0), 0);
        expect(skippedCount).toBe(contents.duplicates.length + contents.poison);
        const inBlockOrder = [...covered].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
        const carried = inBlockOrder.filter((e) => !contents.sources.some((s) => s.partition === e.partition && s.skipped?.some((k) => k.offset === e.offset)));
        expect(carried.map((e) => (e.kind === 'transaction' ? e.transaction.id : 'poison'))).toEqual(contents.transactions.map((t) => t.id));
        // The selection stops early only when the block is full: max transactions, or the next entry would pass maxBytes.
        const bytes = covered.reduce((n, e) => n + entryBytes(e), 0);
        if (covered.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
        if (covered.length < entries.length) {
          const next = entries[covered.length]!;
          const full = contents.transactions.length === max || (covered.length > 0 && bytes + entryBytes(next) > maxBytes);
          expect(full).toBe(true);
        }
        if (entries.length > 0) expect(contents.sources.length).toBeGreaterThan(0);
        for (const duplicate of contents.duplicates) {
          expect(chain.hasTransaction(duplicate.id) || contents.transactions.some((t) => t.id === duplicate.id)).toBe(true);
        }
        if (contents.sources.length === 0) return;
        const block = mine(tip, contents.transactions, contents.sources);
        const verdict = chain.check(block);
        expect(verdict.accepted ? 'accepted' : `${verdict.reason}: ${verdict.detail}`).toBe('accepted');
        // The estimate bounds the bytes the entries add to the encoded block (a `"skipped":[]` key per partition aside).
        const bare = mine(tip, [], contents.sources.map(({ skipped: _skipped, ...range }) => range));
        const added = encodeBlock(block).length - encodeBlock(bare).length;
        expect(added).toBeLessThanOrEqual(bytes + 16 * contents.sources.length);
      }),
    );
  });

  it('takes a backlog beyond the cut threshold, oldest first, up to the take limit', () => {
    const { chain } = chainWith([]);
    // Arrival order interleaves the partitions: the oldest 20 are taken, whichever partition they came from.
    const entries = Array.from({ length: 50 }, (_, i) => txEntry(i % 2, Math.floor(i / 2)));
    const contents = selectBlockContents(entries, chain, TOPIC, take(20));
    expect(contents.transactions.map((t) => t.id).sort()).toEqual(entries.slice(0, 20).map((e) => (e as { transaction: Transaction }).transaction.id).sort());
    expect(contents.sources.map((s) => [s.partition, s.lastOffset])).toEqual([
      [0, 9],
      [1, 9],
    ]);
  });

  it('bounds the bytes of a block by its entries, and still takes one entry larger than the bound', () => {
    const { chain } = chainWith([]);
    const entries = Array.from({ length: 10 }, (_, i) => txEntry(0, i, `id-${'x'.repeat(100)}-${i}`));
    const each = entryBytes(entries[0]!);
    expect(each).toBeGreaterThan(SKIP_RECORD_BYTES);
    expect(selectBlockContents(entries, chain, TOPIC, take(100, each * 4 + each - 1)).transactions).toHaveLength(4);
    expect(selectBlockContents(entries, chain, TOPIC, take(100, 1)).transactions).toHaveLength(1);
  });
});

describe('selectBlockContents with ledger rules', () => {
  const seed = (label: string): Buffer => createHash('sha256').update(label).digest();
  const minerKey = signerFromSeed(seed('block-policy miner'));
  const owner = signerFromSeed(seed('block-policy owner'));
  const thief = signerFromSeed(seed('block-policy thief'));
  const params: ConsensusParams = {
    minDifficulty: 0,
    blockReward: 50,
    allowedMiners: [minerKey.publicKey],
    ledger: { accountKeys: { carol: [owner.publicKey] }, allocations: { carol: 10 } },
  };
  const spend = (offset: number, from: string, amount: number, signer: typeof owner): PendingEntry => {
    const input = signTransaction({ id: `spend-${offset}`, from, to: 'dave', amount, timestamp: 1000 + offset }, signer);
    return { kind: 'transaction', partition: 0, offset, receivedAt: 0, transaction: toTransaction(input, { topic: TOPIC, partition: 0, offset, timestamp: 1000 }) };
  };

  it('refuses unauthorized spends and overdrafts in block order, after the coinbase credited the miner, and every reader accepts the block', () => {
    const chain = new Chain(params);
    chain.apply(GENESIS_BLOCK);
    const miner = owner.publicKey; // a key account: the coinbase pays it, and its key may spend it at once
    const entries = [spend(0, 'carol', 6, owner), spend(1, 'carol', 5, owner), spend(2, 'carol', 1, thief), spend(3, miner, 50, owner), spend(4, miner, 1, owner)];
    const contents = selectBlockContents(entries, chain, TOPIC, take(10), undefined, { params: params.ledger!, miner, reward: 50 });
    expect(contents.transactions.map((t) => t.id)).toEqual(['spend-0', 'spend-3']);
    expect(contents.refused.map(({ transaction, reason }) => [transaction.id, reason])).toEqual([
      ['spend-1', 'insufficient-funds'],
      ['spend-2', 'unauthorized'],
      ['spend-4', 'insufficient-funds'],
    ]);
    const candidate = assembleBlock({ previous: GENESIS_BLOCK, transactions: contents.transactions, sources: contents.sources, miner, timestamp: 2000, difficulty: 0, reward: 50, minerPublicKey: minerKey.publicKey });
    const block = sealBlock(candidate, 0, minerKey);
    // The records as ingest writes them: the stored form's canonical JSON.
    const records = entries.map((entry) => ({ offset: entry.offset, value: Buffer.from(canonicalTransactionJson((entry as { transaction: Transaction }).transaction)), timestamp: 1000 }));
    const result = chain.apply(block, finalSourceLog(TOPIC, new Map([[0, records]])));
    expect(result.accepted ? 'accepted' : `${result.reason}: ${result.detail}`).toBe('accepted');
    expect([chain.balance('carol'), chain.balance(miner)]).toEqual([4n, 0n]);
  });
});
