// Mining races (full): three miners, each owning one of three partitions, at a low difficulty and under a
// steady load on every partition, so that several miners routinely mine the same height at once. The log
// decides: the first block published wins, the others are rejected as stale and their transactions mined
// again on the new tip. Reported: the orphan rate (miners' own counters, cross-checked with the stale
// rejections an independent reader sees). Required: zero loss, zero duplicates, and every reader (the
// auditor's API, our own Chain rebuild, chainlog-verify, each miner) on the same head hash.
// Knobs: CHAOS_RACE_DIFFICULTY (8), CHAOS_RACE_COUNT (900), CHAOS_RACE_SECONDS (60), CHAOS_RACE_MINERS (3),
// CHAOS_RACE_PARTITIONS (3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChainTracker,
  chaosSeed,
  generateLoad,
  ledgerFigures,
  balanceMismatches,
  minerStatuses,
  Outcomes,
  prng,
  sleep,
  Stack,
  verifyTopic,
  waitForAgreement,
  waitForCommit,
} from '../support/chaos.js';
import { recordResult } from '../support/chaos-report.js';
import { ledgerRow } from '../support/chaos-soak.js';
import { auditReport } from '../support/chaos-hostile.js';
import { kafkaBrokers } from '../support/kafka.js';

const seed = chaosSeed();
const difficulty = Number(process.env.CHAOS_RACE_DIFFICULTY ?? 8);
const count = Number(process.env.CHAOS_RACE_COUNT ?? 900);
const seconds = Number(process.env.CHAOS_RACE_SECONDS ?? 60);
const miners = Number(process.env.CHAOS_RACE_MINERS ?? 3);
const partitions = Number(process.env.CHAOS_RACE_PARTITIONS ?? 3);

describe('mining races (full)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = new Stack({
      brokers: kafkaBrokers(),
      prefix: 'races',
      partitions,
      miners,
      difficulty,
      // Small blocks cut early: every miner has a block ready most of the time.
      minerEnv: { CUT_AT_PENDING_TRANSACTIONS: '3', MAX_BLOCK_WAIT_MS: '200' },
    });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it(`loses and duplicates nothing while ${miners} miners race at difficulty ${difficulty} (seed ${seed})`, async () => {
    const started = Date.now();
    const outcomes = new Outcomes();
    await generateLoad({
      ingestUrl: stack.ingestUrl,
      outcomes,
      count,
      durationMs: seconds * 1000,
      concurrency: 6,
      idPrefix: `race-${seed}`,
      random: prng(seed),
      invalidShare: 0,
      batchShare: 0.3,
      accounts: 48,
      ratePerSecond: count / 1.6 / seconds,
    });
    const tracker = await ChainTracker.follow(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack.consensus);
    try {
      await waitForCommit(tracker, outcomes, 180_000);
      await sleep(2000);
      const head = await waitForAgreement(tracker, stack.auditorUrl, 90_000);
      const verify = await verifyTopic(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack);
      let statuses = await minerStatuses(stack);
      for (let i = 0; i < 60 && !statuses.every((s) => s?.chain.tip === tracker.tip.hash); i++) {
        await sleep(500);
        statuses = await minerStatuses(stack);
      }
      const figures = ledgerFigures(tracker.blocks, outcomes);
      const audit = await auditReport(stack.auditorUrl);
      const mined = statuses.reduce((n, s) => n + (s?.mined ?? 0), 0);
      const orphaned = statuses.reduce((n, s) => n + (s?.orphaned ?? 0), 0);
      // Stale blocks past genesis: lost races (a duplicate genesis from simultaneous start-ups is not one).
      const staleRaces = tracker.rejections().filter((m) => m.reason === 'stale' && (m.claimedIndex ?? 0) > 0).length;
      const headsAgree =
        head.hash === tracker.tip.hash && verify.report.headHash === tracker.tip.hash && statuses.every((s) => s?.chain.tip === tracker.tip.hash);
      recordResult({
        scenario: 'races',
        mode: 'full',
        seed,
        durationS: Math.round((Date.now() - started) / 1000),
        ledger: ledgerRow(figures),
        races: { miners, partitions, difficulty, mined, orphaned, orphanRate: orphaned / Math.max(1, mined + orphaned), staleAtAuditor: audit.rejected.byReason.stale ?? 0, headsAgree },
        rejections: Object.fromEntries(Object.entries(audit.rejected.byReason).filter(([, n]) => n > 0)),
        notes: [`per miner mined/orphaned: ${statuses.map((s) => `${s?.minerId}: ${s?.mined}/${s?.orphaned}`).join(', ')}; stale races seen by the independent reader: ${staleRaces}`],
      });
      const context = `seed ${seed} ${JSON.stringify({ mined, orphaned, staleRaces, height: tracker.height })}`;
      expect(figures.lostIds, context).toEqual([]);
      expect(figures.duplicatedIds, context).toEqual([]);
      expect(headsAgree, context).toBe(true);
      expect(verify.code, context).toBe(0);
      expect(await balanceMismatches(stack.auditorUrl, tracker.blocks)).toEqual([]);
      // Every canonical block was mined by one of these miners, and every orphan is a stale block on the log.
      expect(mined, context).toBe(tracker.height);
      expect(orphaned, context).toBe(staleRaces);
      expect(orphaned, `${context}: no race happened; lower CHAOS_RACE_DIFFICULTY or raise the load`).toBeGreaterThan(0);
      // The independent reader and the auditor count the same rejections.
      expect(audit.rejected.byReason.stale, context).toBe(tracker.rejections().filter((m) => m.reason === 'stale').length);
    } finally {
      await tracker.stop();
    }
  });
});
