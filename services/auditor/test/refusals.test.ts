// A refused transaction keeps its terminal status (issue #19: "never silently dropped and never unknown"): the
// refusal is kept with the index, so it outlives the pending tracker's memory and a restart on the same DATA_DIR;
// the refusals source coverage names with a block are kept with it, live or back-filled, so an auditor that never
// read the record answers too; and a derived id names its record, so a block's stored skip answers for it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Block, derivedTransactionId, encodeBlock } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';
import type { IndexStore } from '../src/store/index-store.js';
import { openLevelIndexStore } from '../src/store/level-store.js';
import { MemoryIndexStore } from '../src/store/memory-store.js';
import { ChainBuilder, PARAMS, topicTransaction } from './support/chain-builder.js';

const TOPIC = 'transactions';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newState(store: IndexStore): AuditorState {
  return new AuditorState({ params: PARAMS, transactionsTopic: TOPIC, identity: 'chain', store });
}

/** The chain follower's part: the chain applies the block, the state takes it. */
function follow(state: AuditorState, block: Block, offset: number): void {
  const result = state.chain.apply(encodeBlock(block));
  if (!result.accepted) throw new Error(`${result.reason}: ${result.detail}`);
  state.accept(result.block, offset);
}

/**
 * Genesis, then a block that carries partition 0's offset 0 and refuses offset 1 (insufficient funds), consuming
 * 0..1; offsets 2 and 3 stay pending.
 */
function refusingChain(): { genesis: Block; refusing: Block } {
  const builder = new ChainBuilder();
  const refusing = builder.next({
    transactions: [topicTransaction(TOPIC, 0, 0)],
    sources: [{ topic: TOPIC, partition: 0, firstOffset: 0, lastOffset: 1, skipped: [{ offset: 1, reason: 'insufficient-funds' }] }],
  });
  return { genesis: builder.blocks[0] as Block, refusing };
}

function observeFour(state: AuditorState): void {
  state.pending.observe(0, 0, derivedTransactionId(TOPIC, 0, 0), 1);
  state.pending.observe(0, 1, 'overdraft-1', 2);
  state.pending.observe(0, 2, 'later-2', 3);
  state.pending.observe(0, 3, 'later-3', 4);
}

describe('refusals kept with the index', () => {
  it('a refusal outlives a restart on the same DATA_DIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chainlog-refusals-'));
    dirs.push(dir);
    const { genesis, refusing } = refusingChain();
    const first = newState((await openLevelIndexStore(dir)).store);
    follow(first, genesis, 0);
    observeFour(first);
    follow(first, refusing, 1);
    const refused = { status: 'dropped', transactionId: 'overdraft-1', partition: 0, offset: 1, reason: 'insufficient-funds' };
    expect(first.transactionStatus('overdraft-1')).toEqual(refused);
    expect(first.transactionStatus('later-2')?.status).toBe('pending');
    await first.store.close();

    const again = newState((await openLevelIndexStore(dir)).store);
    expect(again.transactionStatus('overdraft-1')).toEqual(refused);
    // Pending is what this run reads again, not kept.
    expect(again.transactionStatus('later-2')).toBeUndefined();
    await again.store.close();
  });

  it('a record read after its block refused it is refused with the reason kept with the index', () => {
    const { genesis, refusing } = refusingChain();
    const state = newState(new MemoryIndexStore());
    follow(state, genesis, 0);
    follow(state, refusing, 1);
    state.pending.observe(0, 0, derivedTransactionId(TOPIC, 0, 0), 1);
    state.pending.observe(0, 1, 'overdraft-1', 2);
    expect(state.transactionStatus('overdraft-1')).toMatchObject({ status: 'dropped', reason: 'insufficient-funds' });
  });

  it('the refusals source coverage names with a block are kept with it, live or back-filled, without the record read', () => {
    const { genesis, refusing } = refusingChain();
    const named = [{ partition: 0, offset: 1, reason: 'insufficient-funds' as const, id: 'client-chosen' }];
    const live = newState(new MemoryIndexStore());
    follow(live, genesis, 0);
    const result = live.chain.apply(encodeBlock(refusing));
    if (!result.accepted) throw new Error(result.detail);
    live.accept(result.block, 1, undefined, named);
    const backfilled = newState(new MemoryIndexStore());
    backfilled.backfillFromReplay(genesis, 0, 0, undefined, () => undefined);
    backfilled.backfillFromReplay(refusing, 1, 0, undefined, () => undefined, named);
    for (const state of [live, backfilled]) {
      expect(state.transactionStatus('client-chosen')).toEqual({ status: 'dropped', transactionId: 'client-chosen', partition: 0, offset: 1, reason: 'insufficient-funds' });
    }
  });

  it('a derived id skipped by a back-filled block is refused although its record was never read', () => {
    const { genesis, refusing } = refusingChain();
    const state = newState(new MemoryIndexStore());
    state.backfill(genesis, 0, 0);
    state.backfill(refusing, 1, 0);
    expect(state.transactionStatus(derivedTransactionId(TOPIC, 0, 1))).toEqual({
      status: 'dropped',
      transactionId: derivedTransactionId(TOPIC, 0, 1),
      partition: 0,
      offset: 1,
      reason: 'insufficient-funds',
    });
    // Another offset, another topic: nothing to say.
    expect(state.transactionStatus(derivedTransactionId(TOPIC, 0, 2))).toBeUndefined();
    expect(state.transactionStatus(derivedTransactionId('other', 0, 1))).toBeUndefined();
  });
});
