// End to end: transactions per second committed into the canonical chain, and commit latency (ingest's
// 202 → the transaction in a canonical block, as seen by a chain follower in this process, the same
// ChainFollower + Chain the auditor runs), for several partition/miner counts and difficulties. Ingest
// and one miner per partition run from source in child processes with the deployed defaults except the
// block policy (CUT_AT_PENDING_TRANSACTIONS, MAX_BLOCK_WAIT_MS). Baseline, same run and broker: the raw
// produce+consume rate of the same messages (kafkajs producer → kafkajs consumer, no processing).
//
//   node --conditions=@chainlog/source --import tsx bench/e2e.ts [--partitions 1,2] [--difficulties 0]
//        [--seconds 5] [--latency-rate 5000] [--block-transactions 5000] [--block-wait-ms 100]
//   full figure: --partitions 1,2,4 --difficulties 0,12 --seconds 10
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INGEST_ROUTES } from '@chainlog/core/api';
import { ChainFollower } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { Chain, COINBASE_SENDER, GENESIS_BLOCK } from '@chainlog/core/protocol';
import type { Kafka } from 'kafkajs';
import { allocatePort } from '../scripts/lib/ports.js';
import { benchBroker, benchKafka, benchTopic, createTopics } from './lib/broker.js';
import { clientTransaction, httpLoad, ingestMessage, rawProducer, startService, waitForHttp, type ChildService, type LoadResult } from './lib/load.js';
import {
  cpuMeter,
  flags,
  intFlag,
  listFlag,
  loadAverage,
  ms,
  printHeader,
  printTable,
  quantile,
  rate,
  ratio,
  sleep,
  verdict,
  type Row,
} from './lib/report.js';

const USAGE = `bench/e2e.ts: committed transactions per second and commit latency, ingest → miners → chain
  --partitions <list>          partitions = miners (default 1,2)
  --difficulties <list>        proof-of-work difficulties (default 0)
  --seconds <n>                length of the throughput and of the latency phase (default 5)
  --batch <n>                  transactions per request in the throughput phase (default 1000)
  --concurrency <n>            requests in flight in the throughput phase (default 4)
  --latency-rate <n>           offered transactions per second in the latency phase (default 5000)
  --latency-batch <n>          transactions per request in the latency phase (default 100)
  --block-transactions <n>     miners' CUT_AT_PENDING_TRANSACTIONS (default 5000)
  --block-wait-ms <n>          miners' MAX_BLOCK_WAIT_MS (default 100)
  --baseline-messages <n>      messages of the raw produce+consume baseline (default 100000)
  --backlog <n>                transactions produced straight to the transactions topic (kafkajs, no HTTP)
                               before the HTTP phases: the chain's commit rate without ingest (default 50000, 0: skip)
  --log-level <level>          services' LOG_LEVEL (default info, as deployed)
  --brokers <host:port>        use this broker instead of starting one
  --cpu-prof <dir>             write V8 CPU profiles of ingest and the miners into <dir>/<config>-<service>/
  --before <dir>               also run every configuration with ingest and miners from another checkout
                               (e.g. the commit before an optimisation), right before this one`;

const options = flags(USAGE, {
  partitions: { type: 'string' },
  difficulties: { type: 'string' },
  seconds: { type: 'string' },
  batch: { type: 'string' },
  concurrency: { type: 'string' },
  'latency-rate': { type: 'string' },
  'latency-batch': { type: 'string' },
  'block-transactions': { type: 'string' },
  'block-wait-ms': { type: 'string' },
  'baseline-messages': { type: 'string' },
  backlog: { type: 'string' },
  'log-level': { type: 'string' },
  brokers: { type: 'string' },
  'cpu-prof': { type: 'string' },
  before: { type: 'string' },
});
const beforeTree = typeof options.before === 'string' ? options.before : undefined;
const cpuProfDir = typeof options['cpu-prof'] === 'string' ? options['cpu-prof'] : undefined;
const profileArgs = (tag: string, service: string): string[] =>
  cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}/${tag}-${service}`];
const partitionCounts = listFlag(options.partitions, [1, 2]);
const difficulties = listFlag(options.difficulties, [0]);
const seconds = intFlag(options.seconds, 5);
const batch = intFlag(options.batch, 1000);
const concurrency = intFlag(options.concurrency, 4);
const latencyRate = intFlag(options['latency-rate'], 5000);
const latencyBatch = intFlag(options['latency-batch'], 100);
const blockTransactions = intFlag(options['block-transactions'], 5000);
const blockWaitMs = intFlag(options['block-wait-ms'], 100);
const baselineMessages = intFlag(options['baseline-messages'], 100_000);
const backlogTransactions = intFlag(options.backlog, 50_000);
const logLevel = typeof options['log-level'] === 'string' ? options['log-level'] : 'info';
const DRAIN_TIMEOUT_MS = 120_000;
const BLOCK_REWARD = 50;
const run = randomBytes(3).toString('hex');

printHeader('end to end: ingest → transactions topic → miners → blockchain topic → follower', {
  partitionCounts,
  difficulties,
  seconds,
  batch,
  concurrency,
  latencyRate,
  latencyBatch,
  blockTransactions,
  blockWaitMs,
  baselineMessages,
  backlogTransactions,
  logLevel,
});

const broker = await benchBroker(typeof options.brokers === 'string' ? options.brokers : undefined);
const kafka = benchKafka(broker.brokers);
const silent = createLogger('bench', 'silent');

// ---- commit tracking --------------------------------------------------------------------------------

/** Ack times by request number; commit times by transaction id "<run>-<request>-<i>". */
class CommitTracker {
  readonly #acks = new Map<number, number>();
  readonly #commits = new Map<string, number>();
  blocks = 0;
  rejected = 0;
  lastCommitAt = 0;
  #request = 0;

  /** A request body of `size` transactions with ids this tracker can map back to the request. */
  body(size: number, phase: string): { body: string; transactions: number; tag: number } {
    const request = ++this.#request;
    const items = Array.from({ length: size }, (_, i) => ({ id: `${run}${phase}-${request}-${i}`, ...clientTransaction() }));
    return { body: JSON.stringify(items), transactions: size, tag: request };
  }

  /** Kafka messages as ingest would produce them, with ids this tracker can map back to the send. */
  messages(size: number, phase: string): { messages: Array<{ key: string; value: string }>; request: number } {
    const request = ++this.#request;
    const messages = Array.from({ length: size }, (_, i) => {
      const transaction = { id: `${run}${phase}-${request}-${i}`, ...clientTransaction(), timestamp: Date.now() };
      return { key: transaction.from, value: JSON.stringify(transaction) };
    });
    return { messages, request };
  }

  acked(request: number, at: number): void {
    this.#acks.set(request, at);
  }

  committed(id: string, at: number): void {
    this.#commits.set(id, at);
    this.lastCommitAt = at;
  }

  /** When each committed transaction of a phase was seen (one value per transaction). */
  commitTimes(phase: string): number[] {
    const times: number[] = [];
    for (const [id, at] of this.#commits) if (id.startsWith(`${run}${phase}-`)) times.push(at);
    return times;
  }

  commitCount(phase: string): number {
    let count = 0;
    for (const id of this.#commits.keys()) if (id.startsWith(`${run}${phase}-`)) count++;
    return count;
  }

  /** Commit latencies (ms) of the acknowledged transactions of a phase that were committed. */
  latencies(phase: string): { latencies: number[]; beforeAck: number; lastCommitAt: number } {
    const latencies: number[] = [];
    let beforeAck = 0;
    let lastCommitAt = 0;
    const prefix = `${run}${phase}-`;
    for (const [id, at] of this.#commits) {
      if (!id.startsWith(prefix)) continue;
      const request = Number(id.slice(prefix.length, id.lastIndexOf('-')));
      const ackAt = this.#acks.get(request);
      if (ackAt === undefined) continue;
      if (at < ackAt) beforeAck++;
      latencies.push(Math.max(0, at - ackAt));
      lastCommitAt = Math.max(lastCommitAt, at);
    }
    return { latencies, beforeAck, lastCommitAt };
  }
}

async function followChain(topic: string, difficulty: number, tracker: CommitTracker): Promise<ChainFollower> {
  const follower = new ChainFollower({
    kafka,
    topic,
    chain: new Chain({ minDifficulty: difficulty, blockReward: BLOCK_REWARD }),
    logger: silent,
    groupIdPrefix: 'bench-e2e-follower',
    onAccepted: (block) => {
      const at = performance.now();
      tracker.blocks++;
      for (const transaction of block.transactions) if (transaction.from !== COINBASE_SENDER) tracker.committed(transaction.id, at);
    },
    onRejected: () => {
      tracker.rejected++;
    },
  });
  await follower.start();
  return follower;
}

// ---- the baseline: raw produce + consume -------------------------------------------------------------

async function produceConsume(kafkaClient: Kafka, partitions: number, messages: number): Promise<number> {
  const topic = benchTopic(`e2e-raw-${partitions}p`);
  await createTopics(kafkaClient, [{ topic, partitions }]);
  const consumer = kafkaClient.consumer({ groupId: `bench-raw-${run}-${partitions}`, maxBytes: 64 * 2 ** 20 });
  let consumed = 0;
  let lastConsumedAt = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch: fetched }) => {
      consumed += fetched.messages.length;
      lastConsumedAt = performance.now();
    },
  });
  await sleep(1000); // joined the group
  const producer = await rawProducer(kafkaClient);
  const started = performance.now();
  let produced = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (produced < messages) {
        const size = Math.min(batch, messages - produced);
        produced += size;
        await producer.send({ topic, acks: -1, messages: Array.from({ length: size }, () => ingestMessage()) });
      }
    }),
  );
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (consumed < messages && Date.now() < deadline) await sleep(20);
  await producer.disconnect();
  await consumer.disconnect();
  return consumed / ((lastConsumedAt - started) / 1000);
}

// ---- one configuration -------------------------------------------------------------------------------

interface Phase {
  readonly load: LoadResult;
  readonly committed: number;
  readonly committedPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly beforeAck: number;
}

async function waitForCommits(tracker: CommitTracker, phase: string, expected: number): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (tracker.commitCount(phase) < expected) {
    if (Date.now() > deadline) {
      console.log(`  ${phase}: only ${tracker.commitCount(phase)} of ${expected} acknowledged transactions committed after ${DRAIN_TIMEOUT_MS / 1000} s`);
      return;
    }
    await sleep(100);
  }
}

async function phase(tracker: CommitTracker, name: string, url: string, load: { size: number; concurrency: number; ratePerSecond?: number }): Promise<Phase> {
  const result = await httpLoad({
    url,
    concurrency: load.concurrency,
    seconds,
    ...(load.ratePerSecond === undefined ? {} : { ratePerSecond: load.ratePerSecond }),
    makeBody: () => tracker.body(load.size, name),
    onAccepted: (request, _sentAt, answeredAt) => {
      if (request !== undefined) tracker.acked(request, answeredAt);
    },
  });
  const loadStarted = performance.now() - result.seconds * 1000;
  await waitForCommits(tracker, name, result.transactions);
  const { latencies, beforeAck, lastCommitAt } = tracker.latencies(name);
  return {
    load: result,
    committed: latencies.length,
    committedPerSecond: latencies.length / ((lastCommitAt - loadStarted) / 1000),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: quantile(latencies, 1),
    beforeAck,
  };
}

/** Produces `count` transactions straight to the transactions topic (acks=-1), before any miner runs. */
async function produceBacklog(tracker: CommitTracker, topic: string, count: number): Promise<number> {
  const producer = await rawProducer(kafka);
  const started = performance.now();
  let produced = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (produced < count) {
          const size = Math.min(batch, count - produced);
          produced += size;
          const { messages, request } = tracker.messages(size, 'b');
          await producer.send({ topic, acks: -1, messages });
          tracker.acked(request, performance.now());
        }
      }),
    );
  } finally {
    await producer.disconnect();
  }
  return (performance.now() - started) / 1000;
}

/**
 * The miners work off the backlog: the commit rate from the first block that carries backlog transactions
 * to the last one (the first block's transactions are not counted: its time is the start).
 */
async function backlogPhase(tracker: CommitTracker, count: number, produceSeconds: number): Promise<Phase> {
  await waitForCommits(tracker, 'b', count);
  const commits = tracker.commitTimes('b');
  const first = Math.min(...commits);
  const last = Math.max(...commits);
  const inFirstBlock = commits.filter((at) => at === first).length;
  return {
    load: { requests: 0, transactions: count, errors: 0, seconds: produceSeconds, latencies: [] },
    committed: commits.length,
    committedPerSecond: last > first ? (commits.length - inFirstBlock) / ((last - first) / 1000) : Number.NaN,
    p50: Number.NaN,
    p99: Number.NaN,
    max: Number.NaN,
    beforeAck: 0,
  };
}

interface ConfigResult {
  /** The checkout the services ran from: "this tree" or the --before directory. */
  readonly code: string;
  readonly partitions: number;
  readonly difficulty: number;
  readonly backlog: Phase | undefined;
  readonly throughput: Phase;
  readonly latency: Phase;
  readonly blocks: number;
  readonly rejected: number;
  readonly cpu: Record<string, number | undefined>;
  readonly baseline: number;
}

/**
 * The miners' block-size variable in the checkout the services run from: CUT_AT_PENDING_TRANSACTIONS since the
 * rename (#22), MAX_BLOCK_TRANSACTIONS before it. Each side gets only its own name: a miner since the rename
 * refuses the old one (so this tree can be a --before side too), one before it ignores the new one and would
 * cut a block per transaction.
 */
function blockSizeVariable(tree: string | undefined): string {
  const config = readFileSync(join(tree ?? fileURLToPath(new URL('..', import.meta.url)), 'services/miner/src/config.ts'), 'utf8');
  return config.includes("'CUT_AT_PENDING_TRANSACTIONS'") ? 'CUT_AT_PENDING_TRANSACTIONS' : 'MAX_BLOCK_TRANSACTIONS';
}

async function runConfig(partitions: number, difficulty: number, baseline: number, tree?: string): Promise<ConfigResult> {
  const tag = `${partitions}p-d${difficulty}${tree === undefined ? '' : '-before'}`;
  const topics = {
    TOPIC_TRANSACTIONS: benchTopic(`e2e-tx-${tag}`),
    TOPIC_BLOCKCHAIN: benchTopic(`e2e-chain-${tag}`),
    TOPIC_DEAD_LETTER: benchTopic(`e2e-dlq-${tag}`),
    TOPIC_AUDIT: benchTopic(`e2e-audit-${tag}`),
  };
  await createTopics(kafka, [
    { topic: topics.TOPIC_TRANSACTIONS, partitions },
    { topic: topics.TOPIC_BLOCKCHAIN, partitions: 1 },
    { topic: topics.TOPIC_DEAD_LETTER, partitions: 1 },
  ]);
  const env = { KAFKA_BROKERS: broker.brokers, ...topics, DIFFICULTY: String(difficulty), BLOCK_REWARD: String(BLOCK_REWARD), LOG_LEVEL: logLevel };
  const services: ChildService[] = [];
  const tracker = new CommitTracker();
  let follower: ChainFollower | undefined;
  try {
    const ingestPort = await allocatePort();
    // One load generator is one client: the per-client rate limit (a fairness guard) would cap the measurement.
    services.push(startService('ingest', 'services/ingest/src/main.ts', { ...env, HTTP_PORT: String(ingestPort), RATE_LIMIT_PER_SECOND: '0', MAX_INFLIGHT_PER_CLIENT: '100000' }, profileArgs(tag, 'ingest'), tree));
    follower = await followChain(topics.TOPIC_BLOCKCHAIN, difficulty, tracker);
    let produceSeconds = 0;
    if (backlogTransactions > 0) produceSeconds = await produceBacklog(tracker, topics.TOPIC_TRANSACTIONS, backlogTransactions);
    const minerPorts: number[] = [];
    const group = `bench-miners-${run}-${tag}`;
    for (let ordinal = 0; ordinal < partitions; ordinal++) {
      const port = await allocatePort();
      minerPorts.push(port);
      services.push(
        startService(`miner-${ordinal}`, 'services/miner/src/main.ts', {
          ...env,
          HTTP_PORT: String(port),
          MINER_ID: `bench-miner-${ordinal}`,
          MINER_ORDINAL: String(ordinal),
          MINER_REPLICAS: String(partitions),
          MINER_GROUP_ID: group,
          [blockSizeVariable(tree)]: String(blockTransactions),
          MAX_PENDING_PER_PARTITION: String(Math.max(10_000, 4 * blockTransactions)),
          MAX_BLOCK_WAIT_MS: String(blockWaitMs),
        }, profileArgs(tag, `miner-${ordinal}`), tree),
      );
    }
    await waitForHttp(`http://127.0.0.1:${ingestPort}/readyz`, 120_000);
    const pids = Object.fromEntries([['broker', broker.pid], ...services.map((service) => [service.name, service.process.pid] as const)]);
    for (const port of minerPorts) await waitForHttp(`http://127.0.0.1:${port}/readyz`, 120_000);
    const backlogMeter = cpuMeter(pids);
    await follower.waitUntilApplied(0, 60_000); // the genesis block (the Chain accepts nothing else first)
    if (follower.chain.tip === undefined) throw new Error(`the first block is not the genesis block ${GENESIS_BLOCK.hash}`);
    const url = `http://127.0.0.1:${ingestPort}${INGEST_ROUTES.transactions}`;

    let backlog: Phase | undefined;
    let cpu: Record<string, number | undefined> = {};
    if (backlogTransactions > 0) {
      backlog = await backlogPhase(tracker, backlogTransactions, produceSeconds);
      cpu = backlogMeter(); // from the miners' start to the last backlog commit
      console.log(
        `  ${tag} backlog: ${backlogTransactions} transactions produced before the miners started (${produceSeconds.toFixed(1)} s), committed at ${rate(backlog.committedPerSecond)} tx/s, load ${loadAverage()}`,
      );
    }
    // Warm-up: one small batch all the way through.
    await phase(tracker, 'w', url, { size: 10, concurrency: 1, ratePerSecond: 5 });

    const meter = cpuMeter(pids);
    const throughput = await phase(tracker, 't', url, { size: batch, concurrency });
    if (backlog === undefined) cpu = meter();
    console.log(
      `  ${tag} throughput: ingested ${rate(throughput.load.transactions / throughput.load.seconds)} tx/s, committed ${rate(throughput.committedPerSecond)} tx/s, load ${loadAverage()}`,
    );
    const latency = await phase(tracker, 'l', url, {
      size: latencyBatch,
      concurrency: 32,
      ratePerSecond: latencyRate / latencyBatch,
    });
    console.log(`  ${tag} latency at ${rate(latencyRate)} tx/s offered: p50 ${ms(latency.p50)} ms, p99 ${ms(latency.p99)} ms, load ${loadAverage()}`);
    return { code: tree ?? 'this tree', partitions, difficulty, backlog, throughput, latency, blocks: tracker.blocks, rejected: tracker.rejected, cpu, baseline };
  } finally {
    await follower?.stop().catch(() => undefined);
    await Promise.all(services.map((service) => service.stop()));
  }
}

// ---- main --------------------------------------------------------------------------------------------

const results: ConfigResult[] = [];
try {
  const baselines = new Map<number, number>();
  for (const partitions of partitionCounts) {
    const baseline = await produceConsume(kafka, partitions, baselineMessages);
    baselines.set(partitions, baseline);
    console.log(`baseline: raw produce+consume with ${partitions} partition(s): ${rate(baseline)} msg/s, load ${loadAverage()}`);
  }
  for (const difficulty of difficulties) {
    for (const partitions of partitionCounts) {
      console.log(`partitions/miners ${partitions}, difficulty ${difficulty}:`);
      const baseline = baselines.get(partitions) ?? Number.NaN;
      if (beforeTree !== undefined) results.push(await runConfig(partitions, difficulty, baseline, beforeTree));
      results.push(await runConfig(partitions, difficulty, baseline));
    }
  }
} finally {
  await broker.stop();
}

const rows: Row[] = results.map((result) => ({
  ...(beforeTree === undefined ? {} : { code: result.code }),
  miners: result.partitions,
  difficulty: result.difficulty,
  'raw produce+consume msg/s': rate(result.baseline),
  ...(result.backlog === undefined
    ? {}
    : {
        'backlog committed tx/s': rate(result.backlog.committedPerSecond),
        'backlog / raw': ratio(result.backlog.committedPerSecond, result.baseline),
      }),
  'HTTP ingested tx/s': rate(result.throughput.load.transactions / result.throughput.load.seconds),
  'HTTP committed tx/s': rate(result.throughput.committedPerSecond),
  'HTTP committed / raw': ratio(result.throughput.committedPerSecond, result.baseline),
  'p50 ms (saturated)': ms(result.throughput.p50),
  'p99 ms (saturated)': ms(result.throughput.p99),
  [`p50 ms @${rate(latencyRate)}/s`]: ms(result.latency.p50),
  [`p99 ms @${rate(latencyRate)}/s`]: ms(result.latency.p99),
  [`committed tx/s @${rate(latencyRate)}/s`]: rate(result.latency.committedPerSecond),
  blocks: result.blocks,
  'lost races': result.rejected,
}));
printTable('committed throughput (backlog; HTTP closed loop) and commit latency (HTTP open loop): 202 → canonical block seen by a follower', rows);
printTable(
  `CPU during the ${backlogTransactions > 0 ? 'backlog' : 'HTTP throughput'} phase (cores; the machine has 2 and is shared)`,
  results.map((result) => ({ ...(beforeTree === undefined ? {} : { code: result.code }), miners: result.partitions, difficulty: result.difficulty, ...result.cpu })),
);
const failures = results.flatMap((result) => [result.throughput, result.latency].map((p) => p.load.errors)).reduce((a, b) => a + b, 0);
if (failures > 0) console.log(`HTTP errors during the phases: ${failures}`);
console.log(`load average at end: ${loadAverage()}`);
const lowest = Math.min(...difficulties);
const atLowest = results.filter((result) => result.difficulty === lowest && result.code === 'this tree');
if (atLowest.length > 0) {
  const best = Math.max(...atLowest.map((r) => Math.max(r.throughput.committedPerSecond, r.backlog?.committedPerSecond ?? 0)));
  verdict(`committed tx/s at difficulty ${lowest} (best miner count, backlog or HTTP)`, best, 20_000, 'tx/s');
  for (const result of atLowest) {
    verdict(
      `p99 commit latency at ${rate(latencyRate)} tx/s offered, ${result.partitions} miner(s), difficulty ${lowest}`,
      result.latency.p99,
      1000,
      'ms',
      false,
    );
  }
}
process.exit(0);
