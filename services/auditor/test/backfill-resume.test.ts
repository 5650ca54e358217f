// The back-fill continues where it stopped: an auditor whose back-fill (the replay from genesis after a start
// from a checkpoint) was interrupted keeps the replay's state on its volume now and then, and a restarted one
// replays from there instead of from genesis. Property: for random chains, checkpoints, interruption points
// and resume cadences, the index and ledger after the resumed back-fill answer exactly what a replay from
// genesis does, and the resumed replay reaches the checkpoint's state (the verification still matches).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type Block, canonicalJson, Chain, type ChainState, encodeBlock, type Transaction } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';
import { openLevelIndexStore } from '../src/store/level-store.js';
import { ChainBuilder, PARAMS, signedTransaction, topicTransaction } from './support/chain-builder.js';

const TOPIC = 'transactions';
const WINDOWED = { ...PARAMS, replayWindowMs: 3000 };
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave'];
const T0 = 1_700_000_000_000;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface BlockPlan {
  readonly payments: readonly { from: number; to: number; amount: number; age: number }[];
  readonly records: number;
}

const blockPlan: fc.Arbitrary<BlockPlan> = fc.record({
  payments: fc.array(fc.record({ from: fc.nat(3), to: fc.nat(3), amount: fc.integer({ min: 1, max: 60 }), age: fc.nat(2500) }), { maxLength: 3 }),
  records: fc.nat(2),
});

/** Blocks one second apart with signed payments (client ids: the replay window) and records of partition 0. */
function buildChain(plans: readonly BlockPlan[]): Block[] {
  const builder = new ChainBuilder();
  let offset = 0;
  plans.forEach((plan, b) => {
    const timestamp = T0 + (b + 1) * 1000;
    const transactions: Transaction[] = plan.payments.map(({ from, to, amount, age }, i) =>
      signedTransaction(`pay-${b}-${i}`, ACCOUNTS[from] as string, ACCOUNTS[to] as string, amount, timestamp - age),
    );
    const first = offset;
    for (let r = 0; r < plan.records; r++) transactions.push(topicTransaction(TOPIC, 0, offset++, { to: ACCOUNTS[r] as string, amount: 1 }));
    const sources = plan.records === 0 ? [] : [{ topic: TOPIC, partition: 0, firstOffset: first, lastOffset: offset - 1 }];
    builder.next({ transactions, sources, timestamp });
  });
  return builder.blocks;
}

function accepted(chain: Chain, block: Block): Block {
  const result = chain.apply(encodeBlock(block));
  if (!result.accepted) throw new Error(`${result.reason}: ${result.detail}`);
  return result.block;
}

/** The reference: every block from genesis, index in memory (the blockchain offset of block i is i here). */
function replayed(blocks: readonly Block[]): AuditorState {
  const state = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC, clock: () => 0 });
  for (const block of blocks) state.accept(accepted(state.chain, block), block.index);
  return state;
}

/** Hands blocks [from, to] of the back-fill's replay to the state, as the service does with the verifier's. */
function backfill(state: AuditorState, verifier: Chain, blocks: readonly Block[], from: number, to: number): void {
  for (const block of blocks.slice(from, to + 1)) {
    const result = accepted(verifier, block);
    state.backfillFromReplay(result, block.index, verifier.transactionCount - block.transactions.length, undefined, () => verifier.state());
    state.advanceLedger(2);
  }
}

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainlog-backfill-'));
  dirs.push(dir);
  return dir;
}

describe('a back-fill interrupted by a restart', () => {
  it('continues from the state it kept and ends where a replay from genesis does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(blockPlan, { minLength: 3, maxLength: 10 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 6 }),
        async (plans, checkpointSeed, stopSeed, every) => {
          const blocks = buildChain(plans);
          const top = blocks.length - 1;
          const checkpointAt = 1 + (checkpointSeed % top);
          const stoppedAt = stopSeed % (checkpointAt + 1);
          const reference = replayed(blocks);
          const checkpoint = replayed(blocks.slice(0, checkpointAt + 1)).chain.state() as ChainState;
          const dir = newDir();

          // First run: continued from the checkpoint, indexed the live blocks, back-filled 0..stoppedAt, stopped.
          const first = (await openLevelIndexStore(dir)).store;
          const before = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC, clock: () => 0, store: first, identity: 'chain', backfillResumeEvery: every });
          before.chain.continueFrom(checkpoint);
          before.backfill(checkpoint.tip, checkpointAt, checkpoint.transactionCount - checkpoint.tip.transactions.length);
          for (const block of blocks.slice(checkpointAt + 1)) before.accept(accepted(before.chain, block), block.index);
          backfill(before, new Chain(WINDOWED), blocks, 0, stoppedAt);
          await first.close();

          // Restarted on the same volume: the back-fill continues after the block it last kept.
          const second = (await openLevelIndexStore(dir)).store;
          try {
            const after = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC, clock: () => 0, store: second, identity: 'chain', backfillResumeEvery: every });
            const resume = after.backfillResume();
            const backfilled = blocks.slice(0, stoppedAt + 1).reduce((sum, block) => sum + block.transactions.length, 0);
            // Kept as soon as `every` transactions were back-filled: a restart then does not go back to genesis.
            if (backfilled >= every) expect(resume?.state.tip.index).toBeGreaterThan(-1);
            else expect(resume).toBeUndefined();
            if (resume !== undefined) {
              expect(resume.state.tip.index).toBeLessThanOrEqual(stoppedAt);
              expect(resume.offset).toBe(resume.state.tip.index);
            }
            const verifier = new Chain(WINDOWED);
            if (resume !== undefined) verifier.continueFrom(resume.state);
            backfill(after, verifier, blocks, resume === undefined ? 0 : resume.state.tip.index + 1, checkpointAt);
            while (after.ledgerBehind) after.advanceLedger(3);

            // The resumed replay reaches the checkpoint's state: the background verification still matches.
            expect(canonicalJson(verifier.state())).toBe(canonicalJson(checkpoint));
            expect(after.indexProgress()).toMatchObject({ complete: true, height: top, ledgerHeight: top, ledgerComplete: true });
            for (const block of blocks) {
              for (const { id } of block.transactions) expect(after.transactionStatus(id)).toEqual(reference.transactionStatus(id));
            }
            for (const account of [...ACCOUNTS, 'miner-a', '0']) expect(after.account(account, 0, 1000)).toEqual(reference.account(account, 0, 1000));
            expect(after.blockSummaries(0, top + 1)).toEqual(reference.blockSummaries(0, top + 1));
            expect(after.ledger.overdraftCount).toBe(reference.ledger.overdraftCount);
          } finally {
            await second.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('does not resume from a kept point the index no longer holds', async () => {
    const blocks = buildChain([{ payments: [{ from: 0, to: 1, amount: 5, age: 0 }], records: 1 }, { payments: [], records: 1 }, { payments: [], records: 0 }]);
    const store = (await openLevelIndexStore(newDir())).store;
    try {
      const state = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC, clock: () => 0, store, identity: 'chain', backfillResumeEvery: 1 });
      backfill(state, new Chain(WINDOWED), blocks, 0, 2);
      expect(state.backfillResume()?.state.tip.index).toBe(2);
      // Another block at that height (a rebuilt index of another chain would be cleared; this is the guard below it).
      store.batch(() => store.putBackfillResume({ ...(store.backfillResume() as NonNullable<ReturnType<typeof store.backfillResume>>), tipHash: 'ab'.repeat(32) }));
      expect(state.backfillResume()).toBeUndefined();
      state.resetIndex();
      expect(store.backfillResume()).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
