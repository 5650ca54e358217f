// Unit tests of the pure domain modules: the sharded map, the chain index, the ledger, the audit log and
// the pending-transaction tracker.
import { afterEach, describe, expect, it } from 'vitest';
import { type Block, Chain, encodeBlock, GENESIS_BLOCK, inclusionProof } from '@chainlog/core/protocol';
import { AuditLog, type RejectedBlock } from '../src/domain/audit-log.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainIndex, IndexConflictError } from '../src/domain/chain-index.js';
import type { IndexStore } from '../src/store/index-store.js';
import { openLevelIndexStore } from '../src/store/level-store.js';
import { MemoryIndexStore } from '../src/store/memory-store.js';
import { amountJson, Ledger } from '../src/domain/ledger.js';
import { LruCache, RecentList } from '../src/domain/lru.js';
import { PendingTracker } from '../src/domain/pending-tracker.js';
import { ChainBuilder, PARAMS, signedTransaction, topicTransaction } from './support/chain-builder.js';
import { memoryRefusalLog } from './support/refusal-log.js';

const TOPIC = 'transactions';

describe('LruCache and RecentList', () => {
  it('evicts the least recently used entry', () => {
    const cache = new LruCache<number, string>(2);
    cache.set(1, 'a');
    cache.set(2, 'b');
    cache.get(1);
    cache.set(3, 'c');
    expect(cache.get(2)).toBeUndefined();
    expect(cache.get(1)).toBe('a');
    expect(cache.get(3)).toBe('c');
  });

  it('bounds the total weight, evicting the oldest entries and never keeping one heavier than the bound', () => {
    const cache = new LruCache<string, string>(10, (value) => value.length);
    cache.set('a', 'xxxx');
    cache.set('b', 'xxxx');
    cache.get('a');
    cache.set('c', 'xxx');
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual(['xxxx', undefined, 'xxx']);
    expect(cache.weight).toBe(7);
    cache.set('huge', 'x'.repeat(11));
    expect(cache.get('huge')).toBeUndefined();
    cache.set('a', 'x');
    expect(cache.weight).toBe(4);
  });

  it('keeps the newest items, newest first, and counts all', () => {
    const list = new RecentList<number>(3);
    for (let i = 1; i <= 10; i++) list.push(i);
    expect(list.newestFirst()).toEqual([10, 9, 8]);
    expect(list.newestFirst(2)).toEqual([10, 9]);
    expect(list.total).toBe(10);
  });
});

function buildChain(): { builder: ChainBuilder; blocks: Block[] } {
  const builder = new ChainBuilder();
  builder.next({ transactions: [topicTransaction(TOPIC, 0, 0), topicTransaction(TOPIC, 0, 1)], sources: [{ topic: TOPIC, partition: 0, firstOffset: 0, lastOffset: 1 }] });
  builder.next({});
  builder.next({ transactions: [signedTransaction('t-1', 'carol', 'dave', 7)], miner: 'miner-b' });
  return { builder, blocks: builder.blocks };
}

const opened: { store: IndexStore; dir?: string }[] = [];
afterEach(async () => {
  for (const { store, dir } of opened.splice(0)) {
    await store.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
});

/** Both implementations of the store: the same behaviour is expected of each. */
const STORES: [string, () => Promise<IndexStore>][] = [
  ['memory', () => Promise.resolve(new MemoryIndexStore())],
  [
    'level',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'chainlog-index-'));
      const { store } = await openLevelIndexStore(dir);
      opened.push({ store, dir });
      return store;
    },
  ],
];

/** Sequence numbers of each block's first transaction, counted from genesis. */
function firstSeqs(blocks: readonly Block[]): number[] {
  let seq = 0;
  return blocks.map((block) => {
    const first = seq;
    seq += block.transactions.length;
    return first;
  });
}

describe.each(STORES)('ChainIndex over the %s store', (_name, makeStore) => {
  it('indexes every transaction by id to (block, position) and decodes blocks from their wire bytes', async () => {
    const { blocks } = buildChain();
    const store = await makeStore();
    const index = new ChainIndex({ store, blockCacheBytes: 0 });
    const seqs = firstSeqs(blocks);
    blocks.forEach((block, offset) => store.batch(() => index.put(block, offset * 2, seqs[offset] as number)));
    expect(index.height).toBe(3);
    expect(index.transactionCount).toBe(1 + 2 + 1 + 2);
    expect(index.storedBytes).toBe(blocks.reduce((sum, block) => sum + encodeBlock(block).length, 0));
    expect(index.locate('coinbase:1')).toEqual({ blockIndex: 1, position: 0 });
    expect(index.locate(`tx:${TOPIC}:0:1`)).toEqual({ blockIndex: 1, position: 2 });
    expect(index.locate('coinbase:2')).toEqual({ blockIndex: 2, position: 0 });
    expect(index.locate('t-1')).toEqual({ blockIndex: 3, position: 1 });
    expect(index.locate('nope')).toBeUndefined();
    expect(index.locateSeq(-1)).toBeUndefined();
    expect(index.locateSeq(6)).toBeUndefined();
    expect(index.head()).toEqual({ index: 3, hash: blocks[3]?.hash, offset: 6, timestamp: blocks[3]?.timestamp, transactionCount: 2 });
    expect(index.block(1)).toEqual(blocks[1]);
    expect(index.blockBytes(2)?.equals(encodeBlock(blocks[2] as Block))).toBe(true);
    expect(index.transactionAt({ blockIndex: 3, position: 1 })?.id).toBe('t-1');
    expect(index.block(4)).toBeUndefined();
    // From the stored proof data (on disk) or from the block (in memory): the block's transaction and proof.
    for (const block of blocks.slice(1)) {
      block.transactions.forEach((transaction, position) => {
        expect(index.proven({ blockIndex: block.index, position })).toEqual({
          transaction,
          proof: inclusionProof(block, transaction.id),
          blockHash: block.hash,
          merkleRoot: block.merkleRoot,
        });
      });
    }
  });

  it('indexes blocks out of order (a back-fill below a checkpoint) and says which are held', async () => {
    const { blocks } = buildChain();
    const store = await makeStore();
    const index = new ChainIndex({ store, blockCacheBytes: 0 });
    const seqs = firstSeqs(blocks);
    for (const at of [2, 3, 0]) store.batch(() => index.put(blocks[at] as Block, at, seqs[at] as number));
    expect(index.coverage.ranges).toEqual([
      [0, 0],
      [2, 3],
    ]);
    expect(index.coverage.complete).toBe(false);
    expect(index.locate('t-1')).toEqual({ blockIndex: 3, position: 1 });
    expect(index.locate(`tx:${TOPIC}:0:1`)).toBeUndefined();
    // A sequence number inside the missing block 1 is not attributed to block 0.
    expect(index.locateSeq(2)).toBeUndefined();
    expect(index.transactionCount).toBe(6);
    store.batch(() => index.put(blocks[1] as Block, 1, seqs[1] as number));
    expect(index.coverage.complete).toBe(true);
    expect(index.locate(`tx:${TOPIC}:0:1`)).toEqual({ blockIndex: 1, position: 2 });
  });

  it('leaves a held block as it is, and refuses another block at a held height', async () => {
    const { blocks } = buildChain();
    const store = await makeStore();
    const index = new ChainIndex({ store });
    store.batch(() => index.put(GENESIS_BLOCK, 0, 0));
    expect(index.put(GENESIS_BLOCK, 0, 0)).toBe(false);
    const impostor = { ...(blocks[1] as Block), index: 0 };
    expect(() => index.put(impostor, 1, 0)).toThrow(IndexConflictError);
  });
});

// Over both stores: a memory store does not keep the ledger (the ledger holds histories itself), LevelDB does.
describe.each(STORES)('Ledger over the %s store', (_name, makeStore) => {
  it('credits coinbases, moves amounts, and flags overdrafts without refusing them', async () => {
    const { blocks } = buildChain();
    const ledger = new Ledger({ store: await makeStore() });
    let seq = 0;
    const overdrafts = blocks.flatMap((block) => {
      const found = ledger.applyBlock(block, seq);
      seq += block.transactions.length;
      return found;
    });
    expect(ledger.account('miner-a')?.balance).toBe(100n);
    expect(ledger.account('miner-b')?.balance).toBe(50n);
    expect(ledger.account('alice')?.balance).toBe(-6n);
    expect(ledger.account('bob')?.balance).toBe(6n);
    expect(ledger.account('carol')?.balance).toBe(-7n);
    expect(ledger.account('dave')?.transactionCount).toBe(1);
    expect(ledger.account('nobody')).toBeUndefined();
    // "0", the mint, is debited by every coinbase and never counts as overdrawn.
    expect(ledger.account('0')).toEqual({ account: '0', balance: -150n, transactionCount: 3, overdrafts: 0 });
    expect(overdrafts.map(({ account, transactionId, balanceBefore, balanceAfter }) => ({ account, transactionId, balanceBefore, balanceAfter }))).toEqual([
      { account: 'alice', transactionId: `tx:${TOPIC}:0:0`, balanceBefore: 0n, balanceAfter: -3n },
      { account: 'alice', transactionId: `tx:${TOPIC}:0:1`, balanceBefore: -3n, balanceAfter: -6n },
      { account: 'carol', transactionId: 't-1', balanceBefore: 0n, balanceAfter: -7n },
    ]);
    expect(ledger.overdraftCount).toBe(3);
    expect(ledger.overdrawnCount).toBe(2);
    expect(ledger.overdrawnAccounts(10).map((view) => view.account)).toEqual(['carol', 'alice']);
    expect(ledger.overdrawnAccounts(1).map((view) => view.account)).toEqual(['carol']);
    expect(ledger.recentOverdrafts(1)[0]?.transactionId).toBe('t-1');
    expect(ledger.history('alice', 0, 10)).toEqual([1, 2]);
    expect(ledger.history('alice', 1, 10)).toEqual([2]);
  });

  it('clears the overdrawn flag once the balance is back to zero or more, and keeps sums exact beyond 2^53', async () => {
    const ledger = new Ledger({ store: await makeStore() });
    const block = (index: number, transactions: Block['transactions']): Block => ({ ...GENESIS_BLOCK, index, transactions });
    const big = Number.MAX_SAFE_INTEGER;
    ledger.applyBlock(block(1, [signedTransaction('a', 'x', 'y', big), signedTransaction('b', 'x', 'y', big)]), 0);
    expect(ledger.account('y')?.balance).toBe(2n * BigInt(big));
    expect(amountJson(ledger.account('y')?.balance ?? 0n)).toBe('18014398509481982');
    expect(amountJson(-5n)).toBe(-5);
    expect(ledger.overdrawnCount).toBe(1);
    ledger.applyBlock(block(2, [signedTransaction('c', 'y', 'x', big), signedTransaction('d', 'y', 'x', big)]), 2);
    expect(ledger.account('x')?.balance).toBe(0n);
    expect(ledger.overdrawnCount).toBe(0);
    expect(ledger.account('x')?.overdrafts).toBe(2);
  });

  it('records a self-transfer once and does not change the balance', async () => {
    const ledger = new Ledger({ store: await makeStore() });
    ledger.applyBlock({ ...GENESIS_BLOCK, index: 1, transactions: [signedTransaction('s', 'z', 'z', 5)] }, 0);
    expect(ledger.account('z')).toEqual({ account: 'z', balance: 0n, transactionCount: 1, overdrafts: 1 });
    expect(ledger.history('z', 0, 10)).toEqual([0]);
  });

  it('writes accounts, histories and overdrafts to a store that keeps the ledger, and only there', async () => {
    const { blocks } = buildChain();
    const store = await makeStore();
    const ledger = new Ledger({ store });
    const seqs = firstSeqs(blocks);
    blocks.forEach((block, at) => store.batch(() => ledger.applyBlock(block, seqs[at] as number)));
    const stored = new Map(store.accounts());
    const written = { accounts: stored.size, history: store.history('alice', 0, 10), overdrafts: store.recent('overdrafts').length };
    if (store.persistent) {
      expect(written).toEqual({ accounts: ledger.accountCount, history: [1, 2], overdrafts: 3 });
      expect(stored.get('alice')).toEqual({ balance: -6n, transactionCount: 2, overdrafts: 2 });
      // What a restart loads answers as the ledger did.
      const restarted = new Ledger({ store, accounts: store.accounts(), overdraftTotal: ledger.overdraftCount });
      expect(restarted.account('alice')).toEqual(ledger.account('alice'));
      expect(restarted.history('alice', 0, 10)).toEqual([1, 2]);
      expect(restarted.recentOverdrafts(10)).toEqual(ledger.recentOverdrafts(10));
    } else {
      // Nothing outlives a memory store: the ledger holds all of it and prepares nothing for the store.
      expect(written).toEqual({ accounts: 0, history: [], overdrafts: 0 });
      expect(ledger.history('alice', 0, 10)).toEqual([1, 2]);
    }
  });
});

describe('AuditLog', () => {
  const rejection = (offset: number, reason: RejectedBlock['reason']): RejectedBlock => ({
    offset,
    reason,
    detail: 'd',
    chainHeight: 0,
    observedAt: 0,
  });

  it('counts every reason (0 when unseen), keeps the most recent in full and lists forks apart', () => {
    const log = new AuditLog({ recentLimit: 2 });
    expect(Object.values(log.totalsByReason()).every((count) => count === 0)).toBe(true);
    log.record(rejection(1, 'malformed'));
    log.record(rejection(2, 'stale'));
    log.record(rejection(3, 'bad-hash'));
    log.record(rejection(4, 'fork'));
    expect(log.totalsByReason()).toMatchObject({ malformed: 1, stale: 1, 'bad-hash': 1, fork: 1, gap: 0 });
    expect(log.recent().map((record) => record.offset)).toEqual([4, 3]);
    expect(log.forks().map((record) => record.offset)).toEqual([4, 2]);
    expect(log.rejectedCount).toBe(4);
    expect(log.forkCount).toBe(2);
  });
});

describe('PendingTracker', () => {
  function setup(trackLimit?: number) {
    const builder = new ChainBuilder();
    const chain = new Chain(PARAMS);
    chain.apply(encodeBlock(GENESIS_BLOCK));
    const refusals = memoryRefusalLog();
    const tracker = new PendingTracker({ topic: TOPIC, chain, refusals, ...(trackLimit === undefined ? {} : { trackLimit }) });
    const commit = (block: Block): void => {
      const result = chain.apply(encodeBlock(block));
      if (!result.accepted) throw new Error(`${result.reason}: ${result.detail}`);
      refusals.recordSkips(block, TOPIC);
      tracker.onBlock(block);
    };
    return { builder, chain, tracker, commit };
  }

  it('reports transactions pending per partition until a block consumes their offsets', () => {
    const { builder, tracker, commit } = setup();
    tracker.ensurePartitions(2);
    tracker.observe(0, 0, `tx:${TOPIC}:0:0`, 1_000);
    tracker.observe(0, 1, 'mine-1', 2_000);
    tracker.observe(1, 0, undefined, 1_500); // not a valid transaction: not tracked
    tracker.observe(1, 1, 'mine-2', 3_000);
    expect(tracker.status('mine-1')).toEqual({ status: 'pending', partition: 0, offset: 1, enqueuedAt: 2_000 });
    expect(tracker.lag(11_000)).toEqual([
      { partition: 0, pending: 2, oldestTimestamp: 1_000, oldestAgeSeconds: 10 },
      { partition: 1, pending: 1, oldestTimestamp: 3_000, oldestAgeSeconds: 8 },
    ]);
    commit(builder.next({ transactions: [topicTransaction(TOPIC, 0, 0)], sources: [{ topic: TOPIC, partition: 0, firstOffset: 0, lastOffset: 0 }] }));
    expect(tracker.status(`tx:${TOPIC}:0:0`)).toBeUndefined();
    expect(tracker.lag(11_000)[0]).toEqual({ partition: 0, pending: 1, oldestTimestamp: 2_000, oldestAgeSeconds: 9 });
    // Offset 1 consumed without its transaction: the miner dropped it.
    commit(builder.next({ sources: [{ topic: TOPIC, partition: 0, firstOffset: 1, lastOffset: 1 }] }));
    expect(tracker.status('mine-1')).toEqual({ status: 'dropped', partition: 0, offset: 1 });
    expect(tracker.lag(11_000)[0]).toEqual({ partition: 0, pending: 0, oldestTimestamp: undefined, oldestAgeSeconds: 0 });
    expect(tracker.totalPending).toBe(1);
    // A block that names why it left a record out: the status is refused, for that reason, for good.
    commit(builder.next({ sources: [{ topic: TOPIC, partition: 1, firstOffset: 0, lastOffset: 1, skipped: [{ offset: 0, reason: 'malformed' }, { offset: 1, reason: 'insufficient-funds' }] }] }));
    expect(tracker.status('mine-2')).toEqual({ status: 'dropped', partition: 1, offset: 1, reason: 'insufficient-funds' });
    expect(tracker.totalPending).toBe(0);
  });

  it('ignores messages a block already consumed or whose id is already committed', () => {
    const { builder, tracker, commit } = setup();
    commit(builder.next({ transactions: [signedTransaction('early', 'a', 'b', 1)], sources: [{ topic: TOPIC, partition: 0, firstOffset: 0, lastOffset: 3 }] }));
    tracker.observe(0, 2, 'whatever', 1);
    tracker.observe(0, 4, 'early', 1);
    expect(tracker.totalPending).toBe(0);
    tracker.observe(0, 5, 'later', 1);
    expect(tracker.totalPending).toBe(1);
  });

  it('a record read only after its block refused it (the chain ahead of the follower, after a restart) is refused, not unknown', () => {
    const { builder, tracker, commit } = setup();
    commit(
      builder.next({
        transactions: [topicTransaction(TOPIC, 0, 0)],
        sources: [{ topic: TOPIC, partition: 0, firstOffset: 0, lastOffset: 3, skipped: [{ offset: 1, reason: 'insufficient-funds' }, { offset: 2, reason: 'duplicate' }] }],
      }),
    );
    tracker.observe(0, 0, `tx:${TOPIC}:0:0`, 1);
    tracker.observe(0, 1, 'overdraft-1', 1);
    tracker.observe(0, 2, 'resent', 1);
    tracker.observe(0, 3, 'unnamed', 1);
    expect(tracker.status('overdraft-1')).toEqual({ status: 'dropped', partition: 0, offset: 1, reason: 'insufficient-funds' });
    // A duplicate's id has the status of the copy that counts; a record left out without a named reason is not guessed at.
    expect(tracker.status('resent')).toBeUndefined();
    expect(tracker.status('unnamed')).toBeUndefined();
    expect(tracker.status(`tx:${TOPIC}:0:0`)).toBeUndefined();
    expect(tracker.totalPending).toBe(0);
  });

  it('marks a transaction committed by a block that does not cover its offset', () => {
    const { builder, tracker, commit } = setup();
    tracker.observe(1, 0, 's-1', 5);
    commit(builder.next({ transactions: [signedTransaction('s-1', 'a', 'b', 1)] }));
    expect(tracker.status('s-1')).toBeUndefined();
    expect(tracker.lag(10)).toEqual([{ partition: 1, pending: 0, oldestTimestamp: undefined, oldestAgeSeconds: 0 }]);
  });

  it('beyond the track limit counts and ages transactions without indexing their ids', () => {
    const { tracker } = setup(1);
    tracker.observe(0, 0, 'a', 1_000);
    tracker.observe(0, 1, 'b', 2_000);
    expect(tracker.trackedIds).toBe(1);
    expect(tracker.status('a')?.status).toBe('pending');
    expect(tracker.status('b')).toBeUndefined();
    expect(tracker.lag(3_000)).toEqual([{ partition: 0, pending: 2, oldestTimestamp: 1_000, oldestAgeSeconds: 2 }]);
  });

  it('keeps memory bounded while a long backlog drains', () => {
    const { builder, tracker, commit } = setup();
    for (let offset = 0; offset < 5000; offset++) tracker.observe(0, offset, `p-${offset}`, offset);
    commit(builder.next({ sources: [{ topic: TOPIC, partition: 0, firstOffset: 0, lastOffset: 4000 }] }));
    expect(tracker.totalPending).toBe(999);
    expect(tracker.trackedIds).toBe(999);
    expect(tracker.lag(5000)[0]?.oldestTimestamp).toBe(4001);
  });
});
