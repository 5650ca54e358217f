// Chain replay: time and peak memory for a reader to read and validate the whole blockchain topic from
// offset 0, as a miner does on start-up (ChainFollower + Chain) and as the auditor does (ChainFollower +
// AuditorState: index, ledger, pending tracker), against the raw consume rate of the same topic (a kafkajs
// consumer reading the same bytes without decoding them). The chain is built once with the protocol at
// difficulty 0 and large blocks and published to a broker of our own; each reader then runs in a fresh
// child process, so its peak RSS (resourceUsage().maxRSS) is its own. The "validation floor" reader does
// only what any validating reader must: JSON.parse every block and hash every transaction, its leaf and
// one node with node:crypto; what it reaches bounds what validation can reach on this machine.
//
//   node --conditions=@chainlog/source --import tsx bench/replay.ts [--transactions 200000] [--block-transactions 2000] [--rounds 1]
//   full figure: --transactions 1000000
import { execFile } from 'node:child_process';
import { hash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { ChainFollower, createKafka } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { Chain } from '@chainlog/core/protocol';
import { AuditorState } from '../services/auditor/src/domain/auditor-state.js';
import { benchBroker, benchKafka, benchTopic, createTopics } from './lib/broker.js';
import { flags, intFlag, loadAverage, mainThreadCpuSeconds, median, mib, printHeader, printTable, rate, ratio, sleep, verdict, type Row } from './lib/report.js';

const USAGE = `bench/replay.ts: replaying and validating the blockchain topic vs consuming it raw
  --transactions <n>         user transactions in the chain (default 200000)
  --block-transactions <n>   user transactions per block (default 2000)
  --accounts <n>             distinct accounts (default 10000)
  --rounds <n>               each reader runs this many times, interleaved; medians reported (default 1)
  --brokers <host:port>      use this broker instead of starting one
  --cpu-prof <dir>           write a V8 CPU profile of each reader into <dir>
  --before <dir>             also run the Chain and AuditorState readers from another checkout (e.g. the
                             commit before an optimisation, with bench/ copied in), interleaved
  --readers <list>           only these readers, e.g. chain,auditor (raw always runs: it is the baseline)
  --dist                     readers use the services' compiled dist/ (as deployed; \`npm run build\` first, in a
                             --before checkout too) instead of the TypeScript sources through tsx`;

// raw-sources: the raw consumer reading the transactions topic instead, what reading a second topic costs at
// least (every reader reads it for source coverage).
// chain-1t / auditor-1t: the same readers with a plain kafkajs client, so their transactions-topic consumer runs
// on the main thread (source-feed.ts): what the worker thread changes, measured in the same run.
const MODES = ['raw', 'raw-sources', 'parse', 'floor', 'chain', 'chain-1t', 'auditor', 'auditor-1t'] as const;
type Mode = (typeof MODES)[number];
const PARAMS = { minDifficulty: 0, blockReward: 50 };

interface ReplayResult {
  readonly mode: Mode;
  readonly messages: number;
  readonly bytes: number;
  readonly transactions: number;
  /** From the first message received to the last one handled (excludes connecting and joining the group). */
  readonly seconds: number;
  /** Including connecting and joining. */
  readonly totalSeconds: number;
  readonly maxRssBytes: number;
  readonly heapUsedBytes: number;
  readonly cpuSeconds: number;
  /** The main thread's share of cpuSeconds (undefined off Linux). */
  readonly mainThreadCpuSeconds?: number;
}

const options = flags(USAGE, {
  transactions: { type: 'string' },
  'block-transactions': { type: 'string' },
  accounts: { type: 'string' },
  rounds: { type: 'string' },
  brokers: { type: 'string' },
  'cpu-prof': { type: 'string' },
  before: { type: 'string' },
  readers: { type: 'string' },
  dist: { type: 'boolean' },
  // Internal: run one reader (in a child process) and print its result as JSON.
  mode: { type: 'string' },
  topic: { type: 'string' },
  'transactions-topic': { type: 'string' },
  messages: { type: 'string' },
  'source-records': { type: 'string' },
});

if (typeof options.mode === 'string') {
  const result = await replay(
    options.mode as Mode,
    String(options.brokers),
    String(options.topic),
    String(options['transactions-topic']),
    Number(options.messages),
    Number(options['source-records']),
  );
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
}

// ---- a reader (child process) --------------------------------------------------------------------------

async function replay(mode: Mode, brokers: string, topic: string, transactionsTopic: string, messages: number, sourceRecords: number): Promise<ReplayResult> {
  const kafka = benchKafka(brokers, `chainlog-bench-replay-${mode}`);
  const logger = createLogger('bench', 'silent');
  let bytes = 0;
  let transactions = 0;
  const cpuBefore = process.cpuUsage();
  const mainThreadBefore = mainThreadCpuSeconds();
  const started = performance.now();
  let firstMessageAt: number | undefined;
  let lastHandledAt = 0;
  if (mode === 'raw' || mode === 'raw-sources' || mode === 'parse' || mode === 'floor') {
    // The same consumer settings as ChainFollower (kafkajs defaults), counting bytes; the floor also does
    // the minimum work of a validating reader.
    const handle = { raw: (): void => {}, 'raw-sources': (): void => {}, parse: parseOnly, floor: validationFloor }[mode];
    const consumer = kafka.consumer({ groupId: `bench-replay-raw-${randomUUID()}`, allowAutoTopicCreation: false });
    let seen = 0;
    await consumer.connect();
    await consumer.subscribe({ topic: mode === 'raw-sources' ? transactionsTopic : topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        firstMessageAt ??= performance.now();
        for (const message of batch.messages) {
          bytes += message.value?.length ?? 0;
          if (message.value !== null) handle(message.value);
          seen++;
        }
        await heartbeat();
      },
    });
    while (seen < (mode === 'raw-sources' ? sourceRecords : messages)) await sleep(1);
    lastHandledAt = performance.now();
    await consumer.disconnect();
  } else {
    const chain = new Chain(PARAMS);
    const oneThread = mode === 'chain-1t' || mode === 'auditor-1t';
    const state = mode === 'auditor' || mode === 'auditor-1t' ? new AuditorState({ params: PARAMS, transactionsTopic }) : undefined;
    const follower = new ChainFollower({
      // A client made as the services make theirs (createKafka), so the reader runs as theirs do (its
      // transactions-topic consumer on a worker thread, where the code has one); the -1t modes a plain one.
      kafka: oneThread ? kafka : createKafka({ brokers: [brokers], clientId: `chainlog-bench-replay-${mode}`, connectionTimeoutMs: 3000, requestTimeoutMs: 30_000 }, logger),
      topic,
      chain: state?.chain ?? chain,
      logger,
      groupIdPrefix: `bench-replay-${mode}`,
      // Source coverage: the follower reads the transactions topic too (a checkout before it ignores this).
      transactionsTopic,
      onAccepted: (block, offset, bytes) => {
        firstMessageAt ??= performance.now();
        transactions += block.transactions.length;
        state?.accept(block, offset, bytes);
      },
      onRejected: (rejection) => {
        throw new Error(`block at offset ${rejection.offset} rejected: ${rejection.reason}: ${rejection.detail}`);
      },
    });
    await follower.start();
    await follower.waitUntilApplied(messages - 1, 3_600_000);
    lastHandledAt = performance.now();
    await follower.stop();
  }
  const ended = lastHandledAt;
  const cpu = process.cpuUsage(cpuBefore);
  const mainThreadAfter = mainThreadCpuSeconds();
  return {
    mode,
    messages,
    bytes,
    transactions,
    seconds: (ended - (firstMessageAt ?? started)) / 1000,
    totalSeconds: (ended - started) / 1000,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: process.memoryUsage().heapUsed,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    ...(mainThreadBefore === undefined || mainThreadAfter === undefined ? {} : { mainThreadCpuSeconds: mainThreadAfter - mainThreadBefore }),
  };
}

/**
 * The least a validating reader does with a block: parse it, and per transaction hash its canonical JSON
 * (JSON.stringify of the parsed object: the wire form is canonical, so the key order is already right),
 * its leaf and one inner node (a tree of n leaves has n - 1) with node:crypto. No field checks, no
 * canonical-form check, no chain rules.
 */
/** Less than any reader of JSON blocks can do: what it reaches is a ceiling for every validating reader. */
function parseOnly(value: Buffer): void {
  JSON.parse(value.toString('utf8'));
}

function validationFloor(value: Buffer): void {
  const block = JSON.parse(value.toString('utf8')) as { transactions: unknown[] };
  // Leaf (0x00 || hash) and node (0x01 || left || right) inputs, reused across the block's transactions.
  const leafInput = Buffer.alloc(33, 0);
  const nodeInput = Buffer.alloc(65, 1);
  for (const transaction of block.transactions) {
    hash('sha256', JSON.stringify(transaction), 'buffer').copy(leafInput, 1);
    hash('sha256', leafInput, 'buffer').copy(nodeInput, 1);
    hash('sha256', nodeInput, 'buffer');
  }
}

// ---- the parent: build and publish, then run each reader -------------------------------------------------

const total = intFlag(options.transactions, 200_000);
const perBlock = intFlag(options['block-transactions'], 2000);
const accounts = intFlag(options.accounts, 10_000);
const rounds = intFlag(options.rounds, 1);
printHeader('chain replay: ChainFollower + Chain / AuditorState vs raw consume', { total, perBlock, accounts, rounds, code: options.dist === true ? 'dist' : 'source' });

const broker = await benchBroker(typeof options.brokers === 'string' ? options.brokers : undefined);
const execFileAsync = promisify(execFile);
try {
  const kafka = benchKafka(broker.brokers);
  const topic = benchTopic('replay-chain');
  const transactionsTopic = benchTopic('replay-transactions');
  await createTopics(kafka, [
    { topic, partitions: 1 },
    { topic: transactionsTopic, partitions: 1 },
  ]);
  // A checkout from before protocol versions reads only version-1 blocks (no `version` field).
  const version = typeof options.before === 'string' ? { version: 1 } : {};
  // Imported here, not at the top: a reader child of a --before checkout runs this file too, and the
  // generator uses entry points (checkpoints) an older core does not have.
  const { buildAndPublish } = await import('./lib/chain.js');
  const built = await buildAndPublish(kafka, { topic, transactionsTopic, total, perBlock, accounts, blockReward: PARAMS.blockReward, ...version });
  console.log(
    `built and published ${built.blocks} blocks, ${total} user transactions, ${mib(built.bytes)} MiB in ${built.seconds.toFixed(1)} s, load ${loadAverage()}`,
  );

  const before = typeof options.before === 'string' ? options.before : undefined;
  type Reader = Mode | 'chain-before' | 'auditor-before';
  const all: Reader[] = before === undefined ? [...MODES] : ['raw', 'raw-sources', 'parse', 'floor', 'chain-before', 'chain', 'chain-1t', 'auditor-before', 'auditor', 'auditor-1t'];
  const only = typeof options.readers === 'string' ? new Set(['raw', ...options.readers.split(',').flatMap((name) => [name, `${name}-before`])]) : undefined;
  const readers = all.filter((reader) => only === undefined || only.has(reader));
  const results = Object.fromEntries(readers.map((reader) => [reader, [] as ReplayResult[]])) as Record<Reader, ReplayResult[]>;
  for (let round = 1; round <= rounds; round++) {
    for (const reader of readers) {
      const mode = reader.replace('-before', '') as Mode;
      const { stdout } = await execFileAsync(
        process.execPath,
        [
          ...(typeof options['cpu-prof'] === 'string' ? ['--cpu-prof', `--cpu-prof-dir=${options['cpu-prof']}/${reader}-${round}`] : []),
          // From source, @chainlog/* resolve to their TypeScript; with --dist to their build, as in a container.
          ...(options.dist === true ? [] : ['--conditions=@chainlog/source']),
          '--import',
          'tsx',
          'bench/replay.ts',
          '--mode',
          mode,
          '--brokers',
          broker.brokers,
          '--topic',
          topic,
          '--transactions-topic',
          transactionsTopic,
          '--messages',
          String(built.blocks),
          // (only where it is read: a --before checkout's bench does not know the flag)
          ...(mode === 'raw-sources' ? ['--source-records', String(total)] : []),
        ],
        { maxBuffer: 16 << 20, ...(reader.endsWith('-before') ? { cwd: before } : {}) },
      );
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('RESULT '));
      if (line === undefined) throw new Error(`the ${mode} reader printed no result:\n${stdout}`);
      const result = JSON.parse(line.slice('RESULT '.length)) as ReplayResult;
      results[reader].push(result);
      console.log(`round ${round} ${reader}: ${result.seconds.toFixed(1)} s, max RSS ${mib(result.maxRssBytes)} MiB, load ${loadAverage()}`);
    }
  }

  const seconds = (reader: Reader): number => median(results[reader].map((result) => result.seconds));
  const cpuSeconds = (reader: Reader): number => median(results[reader].map((result) => result.cpuSeconds));
  const mainCpuSeconds = (reader: Reader): number => median(results[reader].map((result) => result.mainThreadCpuSeconds ?? Number.NaN));
  const labels: Record<Reader, string> = {
    raw: 'raw kafkajs consumer (no decoding)',
    'raw-sources': 'raw kafkajs consumer of the transactions topic',
    parse: 'JSON.parse of every block, nothing else',
    floor: 'validation floor (JSON.parse + 3 node:crypto hashes per tx)',
    chain: 'ChainFollower + Chain (miner start-up)',
    auditor: 'ChainFollower + AuditorState (auditor)',
    'chain-1t': 'ChainFollower + Chain, transactions topic read on the main thread',
    'auditor-1t': 'ChainFollower + AuditorState, transactions topic read on the main thread',
    'chain-before': `ChainFollower + Chain, ${before ?? ''}`,
    'auditor-before': `ChainFollower + AuditorState, ${before ?? ''}`,
  };
  const rows: Row[] = readers.map((mode) => ({
    reader: labels[mode],
    seconds: Math.round(seconds(mode) * 100) / 100,
    'with join s': Math.round(median(results[mode].map((result) => result.totalSeconds)) * 10) / 10,
    'tx/s': rate(total / seconds(mode)),
    'MiB/s': Math.round((built.bytes / 2 ** 20 / seconds(mode)) * 10) / 10,
    'vs raw': ratio(seconds('raw'), seconds(mode)),
    'CPU s': Math.round(cpuSeconds(mode) * 10) / 10,
    'main thread CPU s': Math.round(mainCpuSeconds(mode) * 100) / 100,
    'tx per CPU s': rate(total / cpuSeconds(mode)),
    'max RSS MiB': mib(median(results[mode].map((result) => result.maxRssBytes))),
    'heap at end MiB': mib(median(results[mode].map((result) => result.heapUsedBytes))),
  }));
  printTable(`replaying ${total} transactions in ${built.blocks} blocks (${mib(built.bytes)} MiB)`, rows);
  console.log(`load average at end: ${loadAverage()}`);
  const ran = (reader: Reader): boolean => (results[reader] as ReplayResult[] | undefined)?.length !== undefined && results[reader].length > 0;
  if (ran('parse') && ran('floor') && ran('chain')) {
    console.log(
      `JSON.parse alone: ${ratio(seconds('raw'), seconds('parse'))} of the raw consume rate; validation floor: ${ratio(seconds('raw'), seconds('floor'))}; Chain at ${ratio(seconds('floor'), seconds('chain'))} of the floor (wall clock), ${ratio(cpuSeconds('floor'), cpuSeconds('chain'))} per CPU second`,
    );
  }
  for (const [mode, previous] of [
    ['chain', 'chain-before'],
    ['chain-1t', 'chain-before'],
    ['auditor', 'auditor-before'],
    ['auditor-1t', 'auditor-before'],
  ] as const) {
    if (ran(mode) && ran(previous)) {
      const change = cpuSeconds(mode) / cpuSeconds(previous) - 1;
      const mainChange = mainCpuSeconds(mode) / mainCpuSeconds(previous) - 1;
      const wallChange = seconds(mode) / seconds(previous) - 1;
      const percent = (value: number): string => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(0)}%`;
      console.log(
        `${mode}: CPU s ${cpuSeconds(previous).toFixed(2)} before, ${cpuSeconds(mode).toFixed(2)} after (${percent(change)}); ` +
          `main thread ${mainCpuSeconds(previous).toFixed(2)} → ${mainCpuSeconds(mode).toFixed(2)} (${percent(mainChange)}); ` +
          `wall ${seconds(previous).toFixed(2)} → ${seconds(mode).toFixed(2)} s (${percent(wallChange)})`,
      );
      // Each round's pair ran back to back, so its ratio shares that moment's load: the spread of these says how
      // far the ratio of medians above can be trusted on a shared machine.
      const paired = results[mode].flatMap((result, round) => {
        const base = results[previous][round]?.mainThreadCpuSeconds;
        return result.mainThreadCpuSeconds === undefined || base === undefined ? [] : [result.mainThreadCpuSeconds / base - 1];
      });
      if (paired.length > 1) {
        console.log(
          `${mode}: main thread per round ${paired.map(percent).join(', ')} (median ${percent(median(paired))})`,
        );
      }
    }
  }
  if (ran('chain')) verdict('Chain replay rate / raw consume rate', seconds('raw') / seconds('chain'), 0.5, '%');
  if (ran('auditor')) verdict('AuditorState replay rate / raw consume rate', seconds('raw') / seconds('auditor'), 0.5, '%');
} finally {
  await broker.stop();
}
