// The index's bookkeeping after a start from a checkpoint (pure parts, no broker): which blocks are held
// (IndexCoverage), whether an index found on disk may be used (judgeStoredIndex), and an AuditorState that
// continued from a checkpoint and was back-filled answering exactly what one that replayed from genesis does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessageProbe } from '@chainlog/core/kafka';
import { type Block, Chain, type ChainState, encodeBlock } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';
import { IndexCoverage } from '../src/domain/index-coverage.js';
import { INDEX_FORMAT, indexIdentity, judgeStoredIndex } from '../src/domain/index-validity.js';
import type { IndexMeta, StoredBlockSummary } from '../src/store/index-store.js';
import { ChainBuilder, PARAMS, topicTransaction } from './support/chain-builder.js';

const TOPIC = 'transactions';
const WINDOWED = { ...PARAMS, replayWindowMs: 60_000 };

describe('IndexCoverage', () => {
  it('holds exactly the blocks added, as sorted disjoint non-adjacent ranges, in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 80 }), (indexes) => {
        const coverage = new IndexCoverage();
        const added = new Set<number>();
        for (const index of indexes) {
          expect(coverage.add(index)).toBe(!added.has(index));
          added.add(index);
        }
        for (let index = 0; index <= 61; index++) expect(coverage.has(index)).toBe(added.has(index));
        const ranges = coverage.ranges;
        for (let i = 1; i < ranges.length; i++) expect((ranges[i] as [number, number])[0]).toBeGreaterThan((ranges[i - 1] as [number, number])[1] + 1);
        const top = added.size === 0 ? -1 : Math.max(...added);
        expect(coverage.top).toBe(top);
        expect(coverage.missing).toBe(top + 1 - added.size);
        expect(coverage.complete).toBe(added.size === top + 1);
        let contiguous = -1;
        while (added.has(contiguous + 1)) contiguous++;
        expect(coverage.contiguousTop).toBe(contiguous);
        // What is stored (the ranges) gives the same coverage back.
        expect(new IndexCoverage(ranges).ranges).toEqual(ranges);
      }),
    );
  });

  it('refuses what is not a block index or a range', () => {
    expect(() => new IndexCoverage().add(-1)).toThrow(RangeError);
    expect(() => new IndexCoverage([[3, 2]])).toThrow(RangeError);
  });
});

describe('judgeStoredIndex', () => {
  const identity = indexIdentity(PARAMS, 'blockchain');
  const top: StoredBlockSummary = { index: 7, hash: 'ab'.repeat(32), offset: 12, timestamp: 1, transactionCount: 3, firstSeq: 20 };
  const meta: IndexMeta = { format: INDEX_FORMAT, identity, ranges: [[0, 7]], ledgerHeight: 7, overdraftTotal: 0 };
  const message = (index: number, hash: string): MessageProbe => found(Buffer.from(JSON.stringify({ index, hash, other: 'fields' })));
  const found = (value: Buffer): MessageProbe => ({ outcome: 'found', value });

  it('uses an index whose top block is still on the topic at its offset', () => {
    expect(judgeStoredIndex(meta, identity, top, message(7, top.hash))).toEqual({ verdict: 'valid', top: 7 });
    expect(judgeStoredIndex(undefined, identity, undefined, undefined)).toEqual({ verdict: 'empty' });
    expect(judgeStoredIndex({ ...meta, ranges: [] }, identity, undefined, undefined)).toEqual({ verdict: 'empty' });
  });

  it.each([
    ['another chain (other parameters or topic)', { ...meta, identity: indexIdentity({ ...PARAMS, blockReward: 1 }, 'blockchain') }, top, message(7, top.hash), 'other-chain'],
    ['another blockchain topic', { ...meta, identity: indexIdentity(PARAMS, 'other') }, top, message(7, top.hash), 'other-chain'],
    ['another format (an older auditor\'s)', { ...meta, format: INDEX_FORMAT - 1 }, top, message(7, top.hash), 'unsupported-format'],
    ['its top summary missing', meta, undefined, message(7, top.hash), 'corrupt'],
    ['a truncated or recreated topic (no message there)', meta, top, { outcome: 'absent', detail: 'offset 12 is at or past the end' }, 'not-on-chain'],
    ['a fork: another block at that offset', meta, top, message(7, 'cd'.repeat(32)), 'not-on-chain'],
    ['another index at that offset', meta, top, message(6, top.hash), 'not-on-chain'],
    ['not a block at that offset', meta, top, found(Buffer.from('garbage')), 'not-on-chain'],
  ] as const)('rebuilds on %s', (_what, storedMeta, storedTop, atOffset, reason) => {
    expect(judgeStoredIndex(storedMeta, identity, storedTop, atOffset as MessageProbe)).toMatchObject({ verdict: 'rebuild', reason });
  });

  it('is undecided (never rebuilds) while the broker does not say what is at the offset', () => {
    const timedOut: MessageProbe = { outcome: 'unknown', detail: 'the broker did not answer within 15000 ms' };
    expect(judgeStoredIndex(meta, identity, top, timedOut)).toEqual({ verdict: 'unknown', detail: timedOut.detail });
    expect(judgeStoredIndex(meta, identity, top, undefined)).toMatchObject({ verdict: 'unknown' });
    // What needs no broker is still decided: another chain's index is rebuilt whatever the broker says.
    expect(judgeStoredIndex({ ...meta, identity: 'other' }, identity, top, timedOut)).toMatchObject({ verdict: 'rebuild', reason: 'other-chain' });
  });
});

/** Six blocks after genesis, each committing two records of partition 0 (alice pays bob or carol). */
function buildChain(): Block[] {
  const builder = new ChainBuilder();
  for (let block = 0; block < 6; block++) {
    const offsets = [2 * block, 2 * block + 1];
    builder.next({
      transactions: offsets.map((offset) => topicTransaction(TOPIC, 0, offset, { to: offset % 3 === 0 ? 'carol' : 'bob', amount: offset + 1 })),
      sources: [{ topic: TOPIC, partition: 0, firstOffset: offsets[0] as number, lastOffset: offsets[1] as number }],
      miner: block % 2 === 0 ? 'miner-a' : 'miner-b',
    });
  }
  return builder.blocks;
}

function replayed(blocks: readonly Block[]): AuditorState {
  const state = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC, clock: () => 0 });
  blocks.forEach((block, offset) => {
    const result = state.chain.apply(encodeBlock(block));
    if (!result.accepted) throw new Error(result.detail);
    state.accept(result.block, offset);
  });
  return state;
}

describe('an AuditorState continued from a checkpoint and back-filled', () => {
  const blocks = buildChain();
  const reference = replayed(blocks);
  const checkpointAt = 3;
  const checkpoint = replayed(blocks.slice(0, checkpointAt + 1)).chain.state() as ChainState;
  const ids = blocks.flatMap((block) => block.transactions.map(({ id }) => id));
  const accounts = ['alice', 'bob', 'carol', 'miner-a', 'miner-b', '0'];

  function continued(): AuditorState {
    const state = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC, clock: () => 0 });
    state.chain.continueFrom(checkpoint);
    const tip = checkpoint.tip;
    state.backfill(tip, checkpointAt, checkpoint.transactionCount - tip.transactions.length);
    for (const block of blocks.slice(checkpointAt + 1)) {
      const result = state.chain.apply(encodeBlock(block));
      if (!result.accepted) throw new Error(result.detail);
      state.accept(result.block, block.index);
    }
    return state;
  }

  it('answers the blocks from the checkpoint on at once, and says what it cannot decide yet', () => {
    const state = continued();
    expect(state.indexProgress()).toEqual({ complete: false, height: 6, contiguousHeight: -1, missingBlocks: 3, ledgerHeight: -1, ledgerComplete: false });
    expect(state.head()).toEqual(reference.head());
    const late = blocks[5]?.transactions[1]?.id as string;
    expect(state.transactionStatus(late)).toEqual(reference.transactionStatus(late));
    // Committed below the checkpoint: not found yet, and the index says it is incomplete (the API answers 503).
    expect(state.transactionStatus(blocks[1]?.transactions[1]?.id as string)).toBeUndefined();
    expect(state.blockSummaries(0, 5)).toBeUndefined();
    expect(state.ledgerBehind).toBe(false);
  });

  it('after the back-fill from genesis, answers exactly as a replay from genesis does', () => {
    const state = continued();
    // The background replay hands over blocks 0..checkpoint in order, with its own sequence numbers.
    const verifier = new Chain(WINDOWED);
    for (const block of blocks.slice(0, checkpointAt + 1)) {
      const result = verifier.apply(encodeBlock(block));
      if (!result.accepted) throw new Error(result.detail);
      state.backfill(result.block, block.index, verifier.transactionCount - block.transactions.length);
      state.advanceLedger(1);
    }
    expect(state.indexProgress()).toMatchObject({ complete: true, contiguousHeight: 6, missingBlocks: 0 });
    // The ledger then catches up over the blocks indexed live (the service does this a few blocks per tick).
    expect(state.ledgerBehind).toBe(true);
    while (state.ledgerBehind) state.advanceLedger(2);
    expect(state.indexProgress()).toMatchObject({ ledgerHeight: 6, ledgerComplete: true });
    for (const id of ids) expect(state.transactionStatus(id)).toEqual(reference.transactionStatus(id));
    for (const account of accounts) expect(state.account(account, 0, 100)).toEqual(reference.account(account, 0, 100));
    expect(state.blockSummaries(0, 10)).toEqual(reference.blockSummaries(0, 10));
    expect(state.ledger.overdraftCount).toBe(reference.ledger.overdraftCount);
  });

  it('leaves the decoded-block cache to queries while the ledger catches up over back-filled blocks', () => {
    const state = continued();
    const verifier = new Chain(WINDOWED);
    for (const block of blocks.slice(0, checkpointAt + 1)) {
      const result = verifier.apply(encodeBlock(block));
      if (!result.accepted) throw new Error(result.detail);
      state.backfillFromReplay(result.block, block.index, verifier.transactionCount - block.transactions.length, encodeBlock(block), () => verifier.state());
    }
    while (state.ledgerBehind) state.advanceLedger(1);
    expect(state.indexProgress()).toMatchObject({ ledgerHeight: 6, ledgerComplete: true });
    // Read once each, from genesis up: none kept decoded (a 1M back-fill kept ~47 such blocks, ~20 MiB of heap). The
    // checkpoint's tip came with the checkpoint, as the newest block then: cached like the blocks indexed live.
    for (let index = 0; index < checkpointAt; index++) expect(state.index.isCached(index)).toBe(false);
    // The blocks indexed live are still cached, and a query caches what it reads.
    expect(state.index.isCached(blocks.length - 1)).toBe(true);
    expect(state.index.block(1)?.hash).toBe(blocks[1]?.hash);
    expect(state.index.isCached(1)).toBe(true);
  });
});
