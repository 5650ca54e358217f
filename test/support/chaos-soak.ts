// Soak with faults: a load generator posts uniquely identified transactions through ingest while miners
// are SIGKILLed at random moments and restarted, the auditor is restarted and the broker is restarted on the
// same data dir and ports; then the ledger invariants are checked against an independent rebuild of the chain.
import {
  balanceMismatches,
  ChainTracker,
  generateLoad,
  ledgerFigures,
  minerStatuses,
  Outcomes,
  prng,
  sleep,
  verifyTopic,
  waitForAgreement,
  waitForCommit,
  type ChaosBroker,
  type Head,
  type LedgerFigures,
  type Stack,
  type VerifyReportJson,
} from './chaos.js';

export interface SoakOptions {
  stack: Stack;
  /** The stack's own broker, when the scenario restarts it. */
  broker?: ChaosBroker;
  seed: number;
  count: number;
  durationMs: number;
  concurrency: number;
  minerKills: number;
  auditorRestarts: number;
  brokerRestart?: 'SIGTERM' | 'SIGKILL';
  commitTimeoutMs: number;
  idPrefix: string;
  /** Ids acknowledged before (earlier scenarios on the same stack) that must also be committed once. */
  outcomes?: Outcomes;
  log?: (line: string) => void;
}

export interface SoakResult {
  figures: ReturnType<typeof ledgerFigures>;
  faults: { minerKills: number; auditorRestarts: number; brokerRestarts: number; brokerOutageMs: number; unexpectedExits: number };
  faultLog: string[];
  /** Unplanned exits (the supervisor restarted them), with how each ended. */
  crashes: string[];
  head: Head;
  trackerHead: { height: number; hash: string };
  verify: { code: number | null; report: VerifyReportJson };
  minerTips: (string | undefined)[];
  balanceMismatches: { account: string; expected: string; auditor: string }[];
  balancesChecked: number;
  tracker: ChainTracker;
  outcomes: Outcomes;
}

type Fault = { at: number; kind: 'miner' | 'auditor' | 'broker' };

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { stack } = options;
  const random = prng(options.seed);
  const log = options.log ?? (() => undefined);
  const outcomes = options.outcomes ?? new Outcomes();
  const faultLog: string[] = [];
  const started = Date.now();
  const say = (text: string): void => {
    const line = `+${((Date.now() - started) / 1000).toFixed(1)}s ${text}`;
    faultLog.push(line);
    log(line);
  };

  // Fault times spread over the middle of the run, in random order.
  const plan: Fault[] = [];
  const at = (): number => Math.floor(options.durationMs * (0.1 + 0.7 * random()));
  for (let i = 0; i < options.minerKills; i++) plan.push({ at: at(), kind: 'miner' });
  for (let i = 0; i < options.auditorRestarts; i++) plan.push({ at: at(), kind: 'auditor' });
  if (options.brokerRestart !== undefined && options.broker !== undefined) plan.push({ at: Math.floor(options.durationMs * (0.3 + 0.3 * random())), kind: 'broker' });
  plan.sort((a, b) => a.at - b.at);

  const counts = { minerKills: 0, auditorRestarts: 0, brokerRestarts: 0, brokerOutageMs: 0 };
  const exitsBefore = stack.processes.reduce((n, p) => n + p.unexpectedExits, 0);
  const faults = (async () => {
    for (const fault of plan) {
      const wait = started + fault.at - Date.now();
      if (wait > 0) await sleep(wait);
      if (fault.kind === 'miner') {
        const miner = stack.miners[Math.floor(random() * stack.miners.length)];
        if (miner === undefined || !miner.alive) continue;
        say(`SIGKILL ${miner.name} (pid ${miner.pid})`);
        await miner.kill('SIGKILL');
        await sleep(300 + Math.floor(random() * 2500));
        miner.start();
        say(`restarted ${miner.name} (pid ${miner.pid})`);
        counts.minerKills++;
      } else if (fault.kind === 'auditor') {
        const signal = random() < 0.5 ? 'SIGKILL' : 'SIGTERM';
        say(`${signal} auditor (pid ${stack.auditor.pid}), restart`);
        await stack.auditor.restart(signal);
        counts.auditorRestarts++;
      } else if (options.broker !== undefined && options.brokerRestart !== undefined) {
        say(`${options.brokerRestart} the Kafka broker (pid ${options.broker.pid})`);
        const outage = await options.broker.restart(options.brokerRestart, 1500);
        counts.brokerRestarts++;
        counts.brokerOutageMs += outage;
        say(`broker back after ${outage} ms (pid ${options.broker.pid})`);
      }
    }
  })();

  const sent = await generateLoad({
    ingestUrl: stack.ingestUrl,
    outcomes,
    count: options.count,
    durationMs: options.durationMs,
    concurrency: options.concurrency,
    idPrefix: options.idPrefix,
    random,
    invalidShare: 0.05,
    batchShare: 0.2,
    retries: 2,
    // About 1.6 transactions per request: spread the count over the duration, so faults hit a running load.
    ratePerSecond: Math.max(1, options.count / 1.6 / (options.durationMs / 1000)),
  });
  say(`load done: ${sent} transactions in ${outcomes.requests} requests`);
  await faults;

  const tracker = await ChainTracker.follow(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack.consensus);
  await waitForCommit(tracker, outcomes, options.commitTimeoutMs);
  say(`committed: chain height ${tracker.height}`);
  // Quiet: nothing acknowledged is pending, so the head stops moving; every reader must agree on it.
  await sleep(1500);
  const head = await waitForAgreement(tracker, stack.auditorUrl, 90_000);
  const figures = ledgerFigures(tracker.blocks, outcomes);
  const mismatches = await balanceMismatches(stack.auditorUrl, tracker.blocks);
  const verify = await verifyTopic(stack.options.brokers, stack.topics.TOPIC_BLOCKCHAIN, stack);
  let minerTips: (string | undefined)[] = [];
  for (let attempt = 0; attempt < 60; attempt++) {
    minerTips = (await minerStatuses(stack)).map((status) => status?.chain.tip);
    if (minerTips.every((tip) => tip === tracker.tip.hash)) break;
    await sleep(500);
  }
  await tracker.stop();
  return {
    figures,
    faults: { ...counts, unexpectedExits: stack.processes.reduce((n, p) => n + p.unexpectedExits, 0) - exitsBefore },
    crashes: stack.processes.flatMap((p) => p.crashes()),
    faultLog,
    head,
    trackerHead: { height: tracker.height, hash: tracker.tip.hash },
    verify,
    minerTips,
    balanceMismatches: mismatches,
    balancesChecked: new Set(tracker.blocks.flatMap((b) => b.transactions.flatMap((tx) => [tx.from, tx.to]))).size,
    tracker,
    outcomes,
  };
}

export function ledgerRow(figures: LedgerFigures): LedgerFigures {
  const { sent, acknowledged, refused, unknown, committed, lost, duplicated, refusedCommitted, unknownCommitted, statuses, blocks, chainTransactions } = figures;
  return { sent, acknowledged, refused, unknown, committed, lost, duplicated, refusedCommitted, unknownCommitted, statuses, blocks, chainTransactions };
}
