// Hostile HTTP clients (full): on a broker of its own, three rounds of a seeded fuzz of ingest and the
// auditor (random and mutated JSON, invalid UTF-8, wrong content types and encodings, a gzip bomb, 2 MiB
// bodies, 100k-deep nesting, odd paths, queries and methods, and a fifth generated from the services' OpenAPI
// documents, whose answers must be what the documents declare: chaos-openapi.ts), slow clients dribbling a request one byte at a
// time, slowloris sockets that never finish their headers (the server must drop them), and hundreds of
// connections at once. No 5xx, no crash, memory bounded (the growth over the last round, after the others
// warmed the heap up, is the leak check). Then the broker is stopped and ingest fuzzed again: the only 5xx allowed is 503 kafka-unavailable,
// and ingest is ready again once the broker is back. Then fairness: 260 slow connections from one client and
// a 300 requests/s flood from another while an honest client writes (chaos-fairness.ts): honest writes keep
// their 202s, the attackers get 429. Everything ingest acknowledged is committed once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosBroker, ChainTracker, chaosSeed, ledgerFigures, Outcomes, prng, sleep, Stack, waitForCommit } from '../support/chaos.js';
import { recordResult } from '../support/chaos-report.js';
import { expectHttpSurvived, openApiNote, runHostileHttp } from '../support/chaos-fuzz.js';
import { ledgerRow } from '../support/chaos-soak.js';
import { expectFair, fairnessNotes, runFairness } from '../support/chaos-fairness.js';

const seed = chaosSeed();
const RSS_GROWTH_BOUND_MIB = 160;
const STEADY_GROWTH_BOUND_MIB = 48;

describe('hostile HTTP clients (full)', () => {
  let broker: ChaosBroker;
  let stack: Stack;

  beforeAll(async () => {
    broker = await ChaosBroker.start();
    stack = new Stack({ brokers: broker.brokers, prefix: 'fuzz', partitions: 2, miners: 1, difficulty: 8 });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
    await broker?.dispose();
  });

  it(`answers every hostile request without a 5xx, stays up and bounded (seed ${seed})`, async () => {
    const started = Date.now();
    const outcomes = new Outcomes();
    const options = {
      rounds: 3,
      round: { requests: 1500, concurrency: 16, slowClients: 10, slowDurationMs: 12_000, slowloris: 10, waitForSlowloris: true, connections: 400 },
      boundMiB: RSS_GROWTH_BOUND_MIB,
      steadyBoundMiB: STEADY_GROWTH_BOUND_MIB,
    };
    const result = await runHostileHttp({ stack, outcomes, random: prng(seed), idPrefix: `fuzz-${seed}`, ...options, outage: { broker, requests: 200 } });
    // The figures of the fairness report (issue #20): 260 slow connections, a flood of 300 requests/s.
    const fairness = await runFairness({
      ingestUrl: stack.ingestUrl,
      outcomes,
      idPrefix: `fair-${seed}`,
      slowConnections: 260,
      slowPhaseSeconds: 30,
      floodRps: 300,
      floodSeconds: 10,
      floodValid: false,
      honestRps: 5,
    });
    // What ingest acknowledged before the outage is committed exactly once.
    const tracker = await ChainTracker.follow(broker.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack.consensus);
    await waitForCommit(tracker, outcomes, 180_000);
    await sleep(1000);
    const figures = ledgerFigures(tracker.blocks, outcomes);
    await tracker.stop();
    const closeMs = result.rounds.flatMap((r) => r.slowloris.closeMs);
    recordResult({
      scenario: 'hostile-http',
      mode: 'full',
      seed,
      durationS: Math.round((Date.now() - started) / 1000),
      ledger: ledgerRow(figures),
      fuzz: {
        requests: result.requests,
        byStatus: result.byStatus,
        fiveXx: result.fiveXx.length,
        crashes: result.crashes,
        slowClients: options.rounds * (options.round.slowClients + options.round.slowloris),
        connections: options.round.connections,
      },
      memory: result.memory,
      notes: [
        `slowest /healthz or /v1/chain/head while slow clients dribbled: ${Math.max(...result.rounds.map((r) => r.slowClients.maxHealthzMs))} ms; closed without an answer (status 0): ${JSON.stringify(result.rounds.flatMap((r) => r.noAnswer))}; slowloris sockets dropped by the server after ${Math.min(...closeMs)}..${Math.max(...closeMs)} ms`,
        openApiNote(result),
        ...fairnessNotes(fairness),
        `broker down: ${result.outage?.requests} requests to ingest answered ${JSON.stringify(result.outage?.byStatus)} (every 5xx a 503 kafka-unavailable); ingest ready ${result.outage?.recoveredMs} ms after the broker restart began`,
      ],
    });
    expectHttpSurvived(result, options);
    expectFair(fairness);
    expect(figures.lostIds).toEqual([]);
    expect(figures.duplicatedIds).toEqual([]);
  });
});
