// Broker failover (full): a three-node KRaft cluster (every topic with three replicas, min.insync.replicas=2),
// ingest, three miners on three transactions partitions and the auditor on it, under a steady load through
// ingest. The node leading the blockchain partition and a transactions partition is SIGKILLed and restarted
// 30 s later; once the cluster is whole again, the active controller is SIGKILLed and restarted likewise.
// Then: every 202 is in the canonical chain exactly once, no 4xx is, and the auditor, an independent rebuild,
// chainlog-verify and every miner agree on the head. Figures per fault: share of 503s in the minute after it,
// when writes and commits resumed.
// Runs alone: npx vitest run --config test/chaos/vitest.chaos.config.ts test/chaos/broker-failover.chaos.ts
// The load runs until 60 s after the second node is back (at most CHAOS_FAILOVER_SECONDS, default 900), so
// both faults are measured under load however long a node takes to restart. CHAOS_SEED replays a run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RunningCluster } from '../../scripts/lib/kafka-cluster.js';
import { recordResult } from '../support/chaos-report.js';
import { activeController, BlockClock, commitLatency, faultFigures, leaderTarget, TimedOutcomes, topicReplication, type FaultFigures, type Latency } from '../support/chaos-failover.js';
import { ledgerRow } from '../support/chaos-soak.js';
import { ChainTracker, chaosSeed, generateLoad, ledgerFigures, minerStatuses, prng, sleep, Stack, verifyTopic, waitForAgreement, waitForCommit } from '../support/chaos.js';

const seed = chaosSeed();
const seconds = Number(process.env.CHAOS_FAILOVER_SECONDS ?? 900);
const WINDOW_MS = 60_000;

describe('broker failover on a three-node cluster (full)', () => {
  let dataDir: string;
  let cluster: RunningCluster;
  let stack: Stack;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chainlog-chaos-cluster-'));
    cluster = await startCluster({ dataDir, nodes: 3, heapMb: 384 });
    stack = new Stack({ brokers: cluster.brokers, prefix: 'failover', partitions: 3, miners: 3, difficulty: 8 });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.dispose();
    await cluster?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(`loses no acknowledged transaction when a partition leader and then the active controller are killed (seed ${seed})`, async () => {
    const started = Date.now();
    const log: string[] = [];
    const say = (text: string): void => {
      const line = `+${((Date.now() - started) / 1000).toFixed(1)}s ${text}`;
      log.push(line);
      console.info(`[failover] ${line}`);
    };
    const topics = Object.values(stack.topics);
    const replication = await topicReplication(cluster, topics);
    say(`replication: ${JSON.stringify(replication)}`);

    const tracker = await ChainTracker.follow(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack.consensus);
    const clock = new BlockClock(tracker);
    const outcomes = new TimedOutcomes();
    const idPrefix = `failover-${seed}`;
    let issued = 0;
    const endLoad = new AbortController();
    const load = generateLoad({
      ingestUrl: stack.ingestUrl,
      outcomes,
      count: 1_000_000,
      durationMs: seconds * 1000,
      concurrency: 6,
      idPrefix,
      random: prng(seed),
      invalidShare: 0.02,
      batchShare: 0.2,
      retries: 2,
      ratePerSecond: 8,
      onProgress: (sent) => (issued = sent),
      stop: endLoad.signal,
    });

    const faults: { name: string; node: number; at: number; idsFrom: number }[] = [];
    const kill = async (name: string, node: number): Promise<void> => {
      // Ids handed out up to a few requests after this point may have been sent before the kill.
      const idsFrom = issued + 6 * 5;
      await cluster.node(node).kill('SIGKILL');
      faults.push({ name, node, at: Date.now(), idsFrom });
      say(`SIGKILL node ${node} (${name})`);
    };
    const restart = async (node: number): Promise<void> => {
      await cluster.node(node).start();
      say(`node ${node} restarted`);
      await cluster.waitUntilHealthy(topics, 240_000);
      say('cluster healthy: every partition has its three in-sync replicas');
    };

    await sleep(20_000);
    const target = await leaderTarget(cluster, stack);
    say(`node ${target.node} leads ${stack.topics.TOPIC_BLOCKCHAIN}-0 and ${target.transactionsPartition === undefined ? 'no transactions partition' : `${stack.topics.TOPIC_TRANSACTIONS}-${target.transactionsPartition}`}`);
    await kill('leader of blockchain and a transactions partition', target.node);
    await sleep(30_000);
    await restart(target.node);

    await sleep(15_000);
    const controller = await activeController(cluster);
    await kill('active controller', controller);
    await sleep(30_000);
    await restart(controller);
    // A full measurement window of load after the second fault, then the load ends.
    await sleep(Math.max(0, WINDOW_MS - (Date.now() - (faults.at(-1)?.at ?? 0))));
    endLoad.abort();

    const sent = await load;
    say(`load done: ${sent} transactions in ${outcomes.requests} requests`);
    await waitForCommit(tracker, outcomes, 180_000);
    await sleep(1500);
    const head = await waitForAgreement(tracker, stack.auditorUrl, 90_000);
    clock.stop();
    const figures = ledgerFigures(tracker.blocks, outcomes);
    const verify = await verifyTopic(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack);
    let minerTips: (string | undefined)[] = [];
    for (let attempt = 0; attempt < 60; attempt++) {
      minerTips = (await minerStatuses(stack)).map((status) => status?.chain.tip);
      if (minerTips.every((tip) => tip === tracker.tip.hash)) break;
      await sleep(500);
    }
    await tracker.stop();

    const perFault: FaultFigures[] = faults.map((fault) => faultFigures(fault, outcomes, clock, idPrefix, WINDOW_MS));
    const seconds1 = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
    // The baseline: acknowledged before the first fault (its first seconds excluded: the miners' start-up).
    const baseline = commitLatency(outcomes, clock.committedAt(), started + 5_000, faults[0]?.at ?? Date.now());
    const latency = (l: Latency): string => `p50 ${seconds1(l.p50Ms)}, p99 ${seconds1(l.p99Ms)}, max ${seconds1(l.maxMs)} (${l.count} transactions)`;
    recordResult({
      scenario: 'broker-failover',
      mode: 'full',
      seed,
      durationS: Math.round((Date.now() - started) / 1000),
      ledger: ledgerRow(figures),
      faults: { brokerKills: faults.length, unexpectedExits: Object.values(stack.unexpectedExits()).reduce((a, b) => a + b, 0) },
      notes: [
        `3-node KRaft cluster, topics ${Object.values(replication).map((r) => `RF ${r.replicas[0]}/min.insync ${r.minInsync}`)[0]}; load ${outcomes.requests} requests, 8/s`,
        ...perFault.map(
          (f) =>
            `${f.fault} (node ${f.node}): ${f.unavailable} of ${f.answers} answers in the next ${WINDOW_MS / 1000} s were 503/no answer (${(100 * f.unavailableShare).toFixed(1)} %); ` +
            `writes all succeeding again after ${seconds1(f.writesResumedMs)}, first commit of a transaction sent after the kill at ${seconds1(f.commitsResumedMs)}, longest pause between blocks ${seconds1(f.longestBlockGapMs)}; ` +
            `commit latency (202 -> seen in a canonical block) of what was acknowledged in that minute: ${latency(f.commitLatency)}`,
        ),
        `commit latency before the faults: ${latency(baseline)}`,
        `head: auditor ${head.height}/${head.hash?.slice(0, 12)}, rebuild ${tracker.height}/${tracker.tip.hash.slice(0, 12)}, verify ${report(verify.report.headHash)}, miners ${minerTips.map((tip) => report(tip)).join(' ')}`,
      ],
    });
    const context = `seed ${seed}\n${log.join('\n')}\n${stack.processes.flatMap((p) => p.crashes()).join('\n')}\n${JSON.stringify(ledgerRow(figures))}\n${JSON.stringify(perFault)}`;
    for (const r of Object.values(replication)) {
      expect(r.replicas.every((n) => n === 3), context).toBe(true);
      expect(r.minInsync, context).toBe('2');
    }
    expect(faults.length, context).toBe(2);
    expect(figures.acknowledged, context).toBeGreaterThan(figures.sent / 2);
    expect(figures.lostIds, context).toEqual([]);
    expect(figures.duplicatedIds, context).toEqual([]);
    expect(figures.refusedCommittedIds, context).toEqual([]);
    expect(head.hash, context).toBe(tracker.tip.hash);
    expect(verify.report.headHash, context).toBe(tracker.tip.hash);
    expect(verify.code, context).toBe(0);
    expect(minerTips, context).toEqual(stack.miners.map(() => tracker.tip.hash));
    for (const f of perFault) expect(f.commitsResumedMs, context).toBeDefined();
  });
});

function report(hash: string | null | undefined): string {
  return hash === null || hash === undefined ? '—' : hash.slice(0, 12);
}
