// The short chaos run inside `npm test` (the full one is `npm run test:chaos`; both in docs/reliability.md).
// One permissioned stack of separate processes (ingest, two miners, the auditor), then:
//   1. soak-lite: load through ingest while a miner is SIGKILLed and restarted and the auditor restarted
//      (CHAOS_QUICK_BROKER_RESTART=1 adds a broker restart, on a broker of its own: +30..60 s on a busy CI box);
//   2. hostile writer: every kind of forged or corrupt block on the blockchain topic (kcat) and poison on the
//      transactions topic, while the miners keep mining: each rejected for its reason, nothing else changes;
//   3. hostile HTTP client: a bounded fuzz of ingest and the auditor: no 5xx, no crash, bounded memory;
// and after all three: every 202 committed exactly once, no refused transaction committed, balances agree.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosBroker, ChainTracker, chaosSeed, ledgerFigures, balanceMismatches, Outcomes, prng, sleep, Stack, waitForAgreement, waitForCommit } from '../support/chaos.js';
import { formatSummary, recordedResults, recordResult } from '../support/chaos-report.js';
import { ledgerRow, runSoak } from '../support/chaos-soak.js';
import { expectHostileWriterDefeated, hostileRejections, runHostileWriter } from '../support/chaos-hostile.js';
import { expectHttpSurvived, openApiNote, runHostileHttp } from '../support/chaos-fuzz.js';
import { expectFair, fairnessNotes, runFairness } from '../support/chaos-fairness.js';
import { kafkaBrokers } from '../support/kafka.js';

const seed = chaosSeed();
const log = process.env.CHAOS_LOG === '1' ? (line: string) => console.info(`[chaos] ${line}`) : undefined;
const withBrokerRestart = process.env.CHAOS_QUICK_BROKER_RESTART === '1';
/** Growth of a service's resident set over the fuzz run that counts as bounded (docs/reliability.md). */
const RSS_GROWTH_BOUND_MIB = 160;

describe('chaos (quick)', () => {
  let broker: ChaosBroker | undefined;
  let stack: Stack;
  const outcomes = new Outcomes();
  const random = prng(seed ^ 0x5eed);
  const suiteStarted = Date.now();

  beforeAll(async () => {
    if (withBrokerRestart) broker = await ChaosBroker.start();
    stack = new Stack({ brokers: broker?.brokers ?? kafkaBrokers(), prefix: 'quick', partitions: 2, miners: 2, difficulty: 4, permissioned: true });
    await stack.start();
  }, 240_000);

  afterAll(async () => {
    await stack?.dispose();
    await broker?.dispose();
    const results = recordedResults();
    if (results.length > 0) console.info(`\nChaos (quick), seed ${seed} (replay with CHAOS_SEED=${seed}):\n\n${formatSummary(results)}`);
  }, 120_000);

  it('soak-lite: SIGKILLed miners and a restarted auditor lose and duplicate nothing', async () => {
    const started = Date.now();
    const result = await runSoak({
      stack,
      ...(broker ? { broker, brokerRestart: 'SIGKILL' as const } : {}),
      seed,
      count: 120,
      durationMs: 12_000,
      concurrency: 4,
      minerKills: 2,
      auditorRestarts: 1,
      commitTimeoutMs: 60_000,
      idPrefix: `soak-lite-${seed}`,
      outcomes,
      ...(log ? { log } : {}),
    });
    const f = result.figures;
    recordResult({ scenario: 'soak-lite', mode: 'quick', seed, durationS: Math.round((Date.now() - started) / 1000), ledger: ledgerRow(f), faults: result.faults });
    const context = `seed ${seed}\n${result.faultLog.join('\n')}\n${result.crashes.join('\n')}\n${JSON.stringify(ledgerRow(f))}`;
    expect(f.acknowledged, context).toBeGreaterThan(40);
    expect(f.lostIds, context).toEqual([]);
    expect(f.duplicatedIds, context).toEqual([]);
    expect(f.refusedCommittedIds, context).toEqual([]);
    expect(result.balanceMismatches, context).toEqual([]);
    expect(result.head.hash).toBe(result.trackerHead.hash);
    expect(result.verify.report.headHash).toBe(result.trackerHead.hash);
    expect(result.minerTips, context).toEqual(stack.miners.map(() => result.trackerHead.hash));
    // Services survive what they were not asked to survive without a supervisor restart.
    expect(result.crashes, context).toEqual([]);
  }, 300_000);

  it('hostile writer: forged blocks and poison are rejected for their reason while the miners mine', async () => {
    const started = Date.now();
    const result = await runHostileWriter({ stack, outcomes, random, idPrefix: `hostile-${seed}`, rounds: 1, loadCount: 60, loadDurationMs: 10_000, flood: 30 });
    recordResult({
      scenario: 'hostile-writer',
      mode: 'quick',
      seed,
      durationS: Math.round((Date.now() - started) / 1000),
      rejections: hostileRejections(result),
      notes: [
        `${result.injected.length} forgeries via ${result.via} (${result.attempts.length} writes: a kind whose tip moved on before it landed is rebuilt on the new tip), ${result.flood.written} junk messages in one burst, ${result.poisonCount} poison messages; the auditor's rejections by reason equal the independent reader's: ${JSON.stringify(result.trackerRejections)}`,
      ],
    });
    expectHostileWriterDefeated(result, stack);
  }, 300_000);

  it('hostile HTTP client: fuzzing ingest and the auditor gets no 5xx, no crash, bounded memory', async () => {
    const started = Date.now();
    const options = {
      rounds: 1,
      round: { requests: 400, concurrency: 8, slowClients: 4, slowDurationMs: 4000, slowloris: 6, connections: 120 },
      boundMiB: RSS_GROWTH_BOUND_MIB,
    };
    const result = await runHostileHttp({ stack, outcomes, random, idPrefix: `fuzz-${seed}`, ...options });
    recordResult({
      scenario: 'hostile-http',
      mode: 'quick',
      seed,
      durationS: Math.round((Date.now() - started) / 1000),
      fuzz: {
        requests: result.requests,
        byStatus: result.byStatus,
        fiveXx: result.fiveXx.length,
        crashes: result.crashes,
        slowClients: options.round.slowClients + options.round.slowloris,
        connections: options.round.connections,
      },
      memory: result.memory,
      notes: [
        `slowest /healthz or /v1/chain/head while slow clients dribbled: ${Math.max(...result.rounds.map((r) => r.slowClients.maxHealthzMs))} ms; closed without an answer (status 0): ${JSON.stringify(result.rounds.flatMap((r) => r.noAnswer))}`,
        openApiNote(result),
      ],
    });
    expectHttpSurvived(result, options);
  }, 300_000);

  it('fairness: slow connections and a flood from other clients leave honest writes accepted', async () => {
    const started = Date.now();
    const result = await runFairness({
      ingestUrl: stack.ingestUrl,
      outcomes,
      idPrefix: `fair-${seed}`,
      slowConnections: 100,
      slowPhaseSeconds: 6,
      floodRps: 600,
      floodSeconds: 3,
      floodValid: false,
      honestRps: 5,
    });
    recordResult({ scenario: 'hostile-http', mode: 'quick', seed, durationS: Math.round((Date.now() - started) / 1000), notes: fairnessNotes(result) });
    expectFair(result);
  }, 120_000);

  it('after everything: every 202 committed exactly once, no 4xx committed, balances agree', async () => {
    const tracker = await ChainTracker.follow(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack.consensus);
    try {
      await waitForCommit(tracker, outcomes, 90_000);
      await sleep(1000);
      await waitForAgreement(tracker, stack.auditorUrl, 60_000);
      const figures = ledgerFigures(tracker.blocks, outcomes);
      const crashes = stack.processes.flatMap((p) => p.crashes());
      recordResult({
        scenario: 'all quick scenarios',
        mode: 'quick',
        seed,
        durationS: Math.round((Date.now() - suiteStarted) / 1000),
        ledger: ledgerRow(figures),
        ...(crashes.length > 0 ? { notes: [`unplanned exits (restarted by the test's supervisor): ${crashes.join('; ')}`] } : {}),
      });
      expect(figures.lostIds).toEqual([]);
      expect(figures.duplicatedIds).toEqual([]);
      expect(figures.refusedCommittedIds).toEqual([]);
      expect(await balanceMismatches(stack.auditorUrl, tracker.blocks)).toEqual([]);
    } finally {
      await tracker.stop();
    }
  }, 180_000);
});
