// A refused transaction's terminal status outlives an auditor restart (issue #19: "never silently dropped and
// never unknown"), on a chain with a replay window and checkpoints, where a restarted auditor continues from
// the newest checkpoint and reads the transactions topic only after what the chain consumed: the refusals are
// kept with the index on its volume (DATA_DIR), and the restarted follower resumes where no refusal is missed.
// An auditor on a fresh volume learns the refusals below its checkpoint from its back-fill's coverage check.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@chainlog/core/logging';
import { signerFromSeed, signTransaction, type Signer } from '@chainlog/core/protocol';
import { readConfig } from '../services/auditor/src/config.js';
import { AuditorService } from '../services/auditor/src/service.js';
import { minerEnv, produce, startMiner, testTopics } from '../services/miner/test/support/miners.js';
import { eventually, uniqueTopic } from './support/kafka.js';
import { carolLedgerEnv } from './support/ledger.js';

const seedOf = (label: string): Buffer => createHash('sha256').update(label).digest();
const minerSeed = seedOf('refusals restart miner');
const minerKey: Signer = signerFromSeed(minerSeed);
const owner: Signer = signerFromSeed(seedOf('refusals restart carol'));
const mallory: Signer = signerFromSeed(seedOf('refusals restart mallory'));

describe('refusals across an auditor restart on its volume', () => {
  const stops: Array<() => Promise<void>> = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a restarted auditor still answers refused with the reason, for refusals before its checkpoint and after', { timeout: 180_000 }, async () => {
    const topics = testTopics('refusals-restart');
    const env = minerEnv(topics, {
      DIFFICULTY: '4',
      ...carolLedgerEnv(minerSeed, minerKey, owner),
      REPLAY_WINDOW_MS: '600000',
      TOPIC_CHECKPOINTS: uniqueTopic('refusals-restart-checkpoints'),
      CHECKPOINT_EVERY_BLOCKS: '1',
      CHECKPOINT_EVERY_TRANSACTIONS: '0',
    });
    const running = await startMiner(env);
    stops.push(running.stop);
    const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-refusals-restart-'));
    dirs.push(dataDir);
    const auditorEnv = { ...env, TOPIC_AUDIT: uniqueTopic('refusals-restart-audit'), KAFKA_CLIENT_ID: 'chainlog-auditor-refusals', LOG_LEVEL: 'silent' };
    const startAuditor = async (volume = dataDir): Promise<AuditorService> => {
      const auditor = new AuditorService(readConfig({ ...auditorEnv, DATA_DIR: volume }), createLogger('auditor', 'silent'), { topicPollIntervalMs: 200 });
      await auditor.start();
      return auditor;
    };
    const view = (auditor: AuditorService, id: string): string | undefined => {
      const status = auditor.state.transactionStatus(id);
      return status?.status === 'dropped' ? `refused: ${status.reason}` : status?.status;
    };

    const at = Date.now();
    const payment = (id: string, amount: number, signer: Signer): { partition: number; key: string; value: string } => ({
      partition: 0,
      key: 'carol',
      value: JSON.stringify(signTransaction({ id, from: 'carol', to: 'dave', amount, timestamp: at }, signer)),
    });
    // Refusals first: the chain's later blocks and checkpoints are past them.
    await produce(topics.TOPIC_TRANSACTIONS, [payment('steal', 5, mallory), payment('pay-1', 6, owner), payment('pay-2', 5, owner)]);
    const first = await startAuditor();
    let stopFirst: (() => Promise<void>) | undefined = () => first.stop();
    stops.push(async () => stopFirst?.());
    await eventually(() => expect(['steal', 'pay-1', 'pay-2'].map((id) => view(first, id))).toEqual(['refused: unauthorized', 'committed', 'refused: insufficient-funds']), 60_000);
    // More blocks after the refusals, and a refusal the restarted auditor sees live.
    await produce(topics.TOPIC_TRANSACTIONS, [payment('pay-3', 1, owner)]);
    await eventually(() => expect(view(first, 'pay-3')).toBe('committed'), 60_000);
    const height = first.state.chain.height;
    await first.stop();
    stopFirst = undefined;

    await produce(topics.TOPIC_TRANSACTIONS, [payment('pay-4', 50, owner)]);
    const again = await startAuditor();
    stops.push(() => again.stop());
    await again.caughtUpNow(60_000);
    // It continued from a checkpoint past the refusals (so it did not read them again from the topic).
    expect(again.state.chain.height).toBeGreaterThanOrEqual(height);
    await eventually(
      () => expect(['steal', 'pay-1', 'pay-2', 'pay-3', 'pay-4'].map((id) => view(again, id))).toEqual(['refused: unauthorized', 'committed', 'refused: insufficient-funds', 'committed', 'refused: insufficient-funds']),
      60_000,
    );

    // A fresh volume: it continues from the newest checkpoint and never reads the refused records from the
    // transactions topic; its back-fill from genesis checks each block against them and keeps the refusals.
    const freshDir = mkdtempSync(join(tmpdir(), 'chainlog-refusals-fresh-'));
    dirs.push(freshDir);
    const fresh = await startAuditor(freshDir);
    stops.push(() => fresh.stop());
    await fresh.caughtUpNow(60_000);
    await eventually(() => expect(fresh.state.indexProgress().complete).toBe(true), 60_000);
    expect(['steal', 'pay-1', 'pay-2', 'pay-3', 'pay-4'].map((id) => view(fresh, id))).toEqual(['refused: unauthorized', 'committed', 'refused: insufficient-funds', 'committed', 'refused: insufficient-funds']);
  });
});
