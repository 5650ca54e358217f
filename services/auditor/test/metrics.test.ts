// What the auditor's counters say it found (overdrafts, rejections): every finding counted once, whether the chain
// follower found it or the ledger catching up after a back-fill did, and a restart on the same DATA_DIR that
// replays the topic from a checkpoint counts nothing again (it continues from the totals kept with the index).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type Block, type ChainState, COINBASE_SENDER, encodeBlock } from '@chainlog/core/protocol';
import { AuditorState } from '../src/domain/auditor-state.js';
import { createAuditorMetrics, type AuditorMetrics } from '../src/metrics.js';
import type { IndexStore } from '../src/store/index-store.js';
import { openLevelIndexStore } from '../src/store/level-store.js';
import { ChainBuilder, PARAMS, topicTransaction } from './support/chain-builder.js';

const TOPIC = 'transactions';
const WINDOWED = { ...PARAMS, replayWindowMs: 60_000 };
const CHECKPOINT_AT = 3;

/** Six blocks after genesis; alice, who never receives anything, pays in each: every payment is an overdraft. */
function buildChain(): Block[] {
  const builder = new ChainBuilder();
  for (let block = 0; block < 6; block++) {
    const offsets = [2 * block, 2 * block + 1];
    builder.next({
      transactions: offsets.map((offset) => topicTransaction(TOPIC, 0, offset, { to: 'bob', amount: offset + 1 })),
      sources: [{ topic: TOPIC, partition: 0, firstOffset: offsets[0] as number, lastOffset: offsets[1] as number }],
    });
  }
  return builder.blocks;
}
const blocks = buildChain();
const ALICE_PAYMENTS = 12;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function observed(state: AuditorState): { registry: Registry; metrics: AuditorMetrics } {
  const registry = new Registry();
  return { registry, metrics: createAuditorMetrics(registry, state, () => ({ caughtUp: true })) };
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const values = (metric as { values?: { value: number; labels: Record<string, string> }[] } | undefined)?.values ?? [];
  return values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label))?.value;
}

/** The chain follower's part, as the service does it: the chain applies each block, the state and the metrics take it. */
function follow(state: AuditorState, metrics: AuditorMetrics, from: number): void {
  for (const block of blocks.slice(from)) {
    const result = state.chain.apply(encodeBlock(block));
    if (!result.accepted) throw new Error(result.detail);
    metrics.blockAccepted(state.accept(result.block, block.index));
  }
}

/** Started from the checkpoint at CHECKPOINT_AT: the blocks below it come later, from the back-fill. */
function continuedFromCheckpoint(store?: IndexStore): AuditorState {
  const reference = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC });
  for (const block of blocks.slice(0, CHECKPOINT_AT + 1)) reference.chain.apply(encodeBlock(block));
  const checkpoint = reference.chain.state() as ChainState;
  const state = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC, clock: () => 42, identity: 'chain', recentLimit: 10, ...(store === undefined ? {} : { store }) });
  state.chain.continueFrom(checkpoint);
  state.backfill(checkpoint.tip, CHECKPOINT_AT, checkpoint.transactionCount - checkpoint.tip.transactions.length);
  return state;
}

describe('chainlog_auditor_overdrafts_total', () => {
  it('counts the overdrafts the ledger finds while catching up after a back-fill, not only those of live blocks', async () => {
    const state = continuedFromCheckpoint();
    const { registry, metrics } = observed(state);
    follow(state, metrics, CHECKPOINT_AT + 1);
    // The ledger waits for the blocks below the checkpoint: nothing found yet.
    expect(await value(registry, 'chainlog_auditor_overdrafts_total')).toBe(0);
    let firstSeq = 0;
    for (const block of blocks.slice(0, CHECKPOINT_AT)) {
      state.backfill(block, block.index, firstSeq);
      firstSeq += block.transactions.length;
    }
    state.advanceLedger(100);
    expect(state.ledger.overdraftCount).toBe(ALICE_PAYMENTS);
    expect(await value(registry, 'chainlog_auditor_overdrafts_total')).toBe(ALICE_PAYMENTS);
    // Scraped again: still once each.
    expect(await value(registry, 'chainlog_auditor_overdrafts_total')).toBe(ALICE_PAYMENTS);
  });
});

describe('a restart on the same DATA_DIR', () => {
  it('keeps what was found and reported (audit log, recent overdrafts) and counts none of it again when the topic is replayed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chainlog-auditor-metrics-'));
    dirs.push(dir);
    const stale = { offset: 7, reason: 'stale' as const, detail: 'block 2 again', claimedIndex: 2 };

    const first = new AuditorState({ params: WINDOWED, transactionsTopic: TOPIC, clock: () => 42, identity: 'chain', recentLimit: 10, store: (await openLevelIndexStore(dir)).store });
    const before = observed(first);
    follow(first, before.metrics, 0);
    expect(first.reject(stale).recorded).toBe(true);
    const anomaly = { offset: 8, claimedIndex: 7, claimedMiner: 'miner-a', partition: 0, claimedThrough: 99, detail: 'partition 0 ends at 12' };
    expect(first.recordAnomaly(anomaly).recorded).toBe(true);
    const report = first.auditReport();
    expect(report.rejected.recent).toHaveLength(1);
    expect(report.overdrafts.recent).toHaveLength(10);
    expect(await value(before.registry, 'chainlog_auditor_overdrafts_total')).toBe(ALICE_PAYMENTS);
    expect(await value(before.registry, 'chainlog_auditor_blocks_rejected_total', { reason: 'stale' })).toBe(1);
    await first.store.close();

    // The restarted auditor replays the topic from the checkpoint: the blocks after it and the stale block again.
    const again = continuedFromCheckpoint((await openLevelIndexStore(dir)).store);
    const after = observed(again);
    expect(await value(after.registry, 'chainlog_auditor_overdrafts_total')).toBe(ALICE_PAYMENTS);
    follow(again, after.metrics, CHECKPOINT_AT + 1);
    expect(again.reject(stale).recorded).toBe(false);
    expect(again.recordAnomaly(anomaly).recorded).toBe(false);
    expect(again.auditReport()).toEqual(report);
    expect(await value(after.registry, 'chainlog_auditor_overdrafts_total')).toBe(ALICE_PAYMENTS);
    expect(await value(after.registry, 'chainlog_auditor_blocks_rejected_total', { reason: 'stale' })).toBe(1);
    expect(await value(after.registry, 'chainlog_auditor_blocks_rejected_total', { reason: 'malformed' })).toBe(0);
    expect(await value(after.registry, 'chainlog_auditor_coverage_anomalies_total', { kind: 'past-end' })).toBe(1);
    await again.store.close();
  });
});

describe('chainlog_auditor_blocks_accepted_total and the commit counters', () => {
  it('count live blocks only: the replay at start-up is counted apart, so a restart is no burst of commits', async () => {
    const state = new AuditorState({ params: PARAMS, transactionsTopic: TOPIC });
    const { registry, metrics } = observed(state);
    const replayedBlocks = blocks.slice(0, 3);
    const liveBlocks = blocks.slice(3);
    const started = Date.now();
    for (const block of replayedBlocks) {
      const result = state.chain.apply(encodeBlock(block));
      if (!result.accepted) throw new Error(result.detail);
      metrics.blockAccepted(state.accept(result.block, block.index));
    }
    for (const block of liveBlocks) {
      const result = state.chain.apply(encodeBlock(block));
      if (!result.accepted) throw new Error(result.detail);
      metrics.blockAccepted(state.accept(result.block, block.index), started);
    }
    const liveTransactions = liveBlocks.reduce((sum, block) => sum + block.transactions.filter((tx) => tx.from !== COINBASE_SENDER).length, 0);
    expect(liveTransactions).toBeGreaterThan(0);
    expect(await value(registry, 'chainlog_auditor_blocks_replayed_total')).toBe(replayedBlocks.length);
    expect(await value(registry, 'chainlog_auditor_blocks_accepted_total')).toBe(liveBlocks.length);
    expect(await value(registry, 'chainlog_auditor_transactions_committed_total')).toBe(liveTransactions);
    expect(await value(registry, 'chainlog_auditor_source_messages_committed_total', { partition: '0' })).toBe(2 * liveBlocks.length);
    const histogram = (await registry.getMetricsAsJSON()).find((metric) => metric.name === 'chainlog_transaction_commit_latency_seconds');
    const count = (histogram as { values: { metricName?: string; value: number }[] }).values.find((entry) => entry.metricName === 'chainlog_transaction_commit_latency_seconds_count');
    expect(count?.value).toBe(liveTransactions);
  });
});
