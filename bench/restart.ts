// Restart: time from process start to ready (/readyz 200) and peak RSS of a miner and of the auditor on a chain
// of N transactions, against the raw consume rate of the same blockchain topic in the same run. A miner is
// started three ways: replaying from genesis (checkpoints off), replaying while it writes checkpoints (so one
// exists near the tip, as in a running deployment), and continuing from the newest checkpoint. The auditor:
// replaying from genesis with its index in memory (no DATA_DIR), continuing from the newest checkpoint on a
// fresh DATA_DIR (then back-filling its index on disk from genesis in the background), and restarting on that
// DATA_DIR; on the last, the lookup latency (status with proof, balance) over HTTP for random committed
// transactions against /healthz in the same process (and against the in-memory auditor when it ran). The chain
// is built with the protocol and published straight to the topics (bench/lib/chain.ts), with a replay window,
// so checkpoints apply.
//
//   npm run bench:restart -- [--transactions 1000000] [--window-ms 60000] [--no-auditor]
// The services run from their compiled dist/ when present (npm run build), as a container does; else from source.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { benchBroker, benchKafka, benchTopic, createTopics } from './lib/broker.js';
import { buildAndPublish, publishGeneratedCheckpoint, type BuiltChain } from './lib/chain.js';
import { chainMismatch, loadChain, saveChain, type ChainParameters, type SavedChain } from './lib/chain-state.js';
import { EnvReader, readConsensusConfig } from '@chainlog/core/config';
import { measureLookups, sampleCommitted, type LookupFigures } from './lib/lookups.js';
import { flags, intFlag, loadAverage, mib, printHeader, printTable, rate, sleep, verdict, type Row } from './lib/report.js';
import { allocatePort } from '../scripts/lib/ports.js';
import { createMemoryCgroup, type CgroupFigures, type MemoryCgroupHandle } from './lib/memory-cgroup.js';
import { formatProbe, ResponsivenessProbe } from './lib/probe.js';

const USAGE = `bench/restart.ts: time to ready and peak RSS of a restarted miner and auditor
  --transactions <n>         user transactions in the chain (default 1000000)
  --block-transactions <n>   user transactions per block (default 2000)
  --window-ms <ms>           REPLAY_WINDOW_MS of the chain (default 60000; the chain has 1000 tx per second of block time)
  --every-transactions <n>   CHECKPOINT_EVERY_TRANSACTIONS of the writing miner (default: the miner's default)
  --no-auditor               skip the auditor
  --auditor-replay           also run the auditor replaying from genesis with --generated-checkpoint
  --no-backfill              do not wait for the auditor's back-fill (nor restart it on its DATA_DIR)
  --backfill-seconds <s>     stop the back-fill after s seconds and report its memory so far (a 10M back-fill under a
                             memory limit takes hours here); no restart on the incomplete DATA_DIR
  --miner-verify             also start a miner from the checkpoint with CHECKPOINT_VERIFY on and report its memory
                             during the background verification from genesis
  --lookups <n>              requests per kind of lookup (default 2000)
  --generated-checkpoint     write the checkpoint from the generator (the state at the tip, unsigned: open mode)
                             and skip the replays from genesis: only the restart from the checkpoint is timed
                             (how 10M is measured on a small machine)
  --node-flags <flags>       node flags of the services started, before the script (e.g. "--max-old-space-size=160 --trace-gc");
                             not of the auditor replaying with its index in memory (it holds every id in the heap)
  --service-logs <dir>       write each service's stdout and stderr there (with --trace-gc: the heap after each GC)
  --brokers <host:port>      use this broker instead of starting one
  --memory-limit <MiB>       run each service started in a memory cgroup of its own with this limit, as a container's
                             limit (page cache counts and is reclaimed at the limit; no swap): reports the group's
                             peak usage, limit hits and OOM kills per service (needs root or a delegated cgroup)
  --cpus <list>              run each service pinned to these CPUs (taskset -c, e.g. 0): it then sees that many cores,
                             as under the chart's CPU limit of one core (no worker thread for the transactions topic)
  --chain-state <file>       with --brokers: reuse the chain a run with the same parameters left on that broker (the
                             file says where it is); when the file does not exist, build the chain and write it`;

const options = flags(USAGE, {
  transactions: { type: 'string' },
  'block-transactions': { type: 'string' },
  'window-ms': { type: 'string' },
  'every-transactions': { type: 'string' },
  'no-auditor': { type: 'boolean' },
  'auditor-replay': { type: 'boolean' },
  'no-backfill': { type: 'boolean' },
  'miner-verify': { type: 'boolean' },
  lookups: { type: 'string' },
  'generated-checkpoint': { type: 'boolean' },
  brokers: { type: 'string' },
  'node-flags': { type: 'string' },
  'service-logs': { type: 'string' },
  'chain-state': { type: 'string' },
  'memory-limit': { type: 'string' },
  'backfill-seconds': { type: 'string' },
  cpus: { type: 'string' },
});

const total = intFlag(options.transactions, 1_000_000);
const perBlock = intFlag(options['block-transactions'], 2000);
const windowMs = intFlag(options['window-ms'], 60_000);
const lookupCount = intFlag(options.lookups, 2000);
const memoryLimitMib = options['memory-limit'] === undefined ? undefined : intFlag(options['memory-limit'], 0);
if (memoryLimitMib !== undefined && memoryLimitMib <= 0) throw new Error('--memory-limit must be a positive number of MiB');
const BLOCK_REWARD = 50;
const chainParameters: ChainParameters = { total, perBlock, windowMs, blockReward: BLOCK_REWARD };

interface Start {
  readonly readySeconds: number;
  readonly peakRssBytes: number;
  readonly logs: readonly Record<string, unknown>[];
}

/** The service's entry point: dist (what a container runs) when built, else the TypeScript source. */
function entry(service: string): { args: string[]; from: string } {
  const dist = `services/${service}/dist/main.js`;
  if (existsSync(dist)) return { args: [dist], from: 'dist' };
  return { args: ['--conditions=@chainlog/source', '--import', 'tsx', `services/${service}/src/main.ts`], from: 'source' };
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The resident set now, split: anonymous (heap, Buffers) and file-backed (node's binary, the index's mapped table files: reclaimable). */
function rssNow(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return `RSS now ${mib(kib('VmRSS'))} MiB (anonymous ${mib(kib('RssAnon'))}, file-backed ${mib(kib('RssFile'))})`;
}

/**
 * Peaks of the resident set while something runs, sampled from /proc every 200 ms, split as the kernel
 * accounts it: anonymous (heap, Buffers: what an OOM kill is about) and file-backed (mapped files: node's binary, the index's table files; page
 * cache that the kernel reclaims under a memory limit before it kills). VmHWM alone cannot tell them apart.
 */
class RssSampler {
  readonly peak = { rss: 0, anon: 0, file: 0 };
  /** With --memory-limit: the peaks of the group's anonymous memory and page cache as the kernel charges them. */
  readonly cgroupPeak = { anon: 0, file: 0 };
  /** The process' own account (its /metrics) at the sample with the most anonymous memory so far. */
  #breakdown = '';
  #breakdownAnon = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #metricsTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly pid: number,
    base?: string,
    readonly cgroup?: MemoryCgroupHandle,
  ) {
    this.#timer = setInterval(() => this.sample(), 200);
    this.sample();
    if (base !== undefined) this.#metricsTimer = setInterval(() => void this.#sampleMetrics(base), 2000);
  }

  /** Heap used and total, external memory and array buffers as the process reports them (prom-client defaults). */
  async #sampleMetrics(base: string): Promise<void> {
    const anon = this.#anonNow();
    if (anon <= this.#breakdownAnon) return;
    try {
      const text = await (await fetch(`${base}/metrics`)).text();
      const value = (name: string): number => Number(new RegExp(`^chainlog_${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? 0);
      this.#breakdownAnon = anon;
      // Worker threads (the transactions topic's reader) are isolates of their own: not in the nodejs_heap_* gauges.
      const workers = value('worker_threads_reporting') > 0 ? `; worker threads' V8 heap used ${mib(value('worker_threads_heap_size_used_bytes'))} of ${mib(value('worker_threads_heap_size_bytes'))} MiB, their external ${mib(value('worker_threads_external_memory_bytes'))} MiB` : '';
      this.#breakdown = `anonymous ${mib(anon)} MiB: V8 heap used ${mib(value('nodejs_heap_size_used_bytes'))} of ${mib(value('nodejs_heap_size_total_bytes'))} MiB, external ${mib(value('nodejs_external_memory_bytes'))} MiB${workers}`;
    } catch {
      // a busy or exiting process: the next sample
    }
  }

  #anonNow(): number {
    try {
      return Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      return 0;
    }
  }

  sample(): void {
    let status: string;
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    } catch {
      return; // exited
    }
    const kib = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    this.peak.rss = Math.max(this.peak.rss, kib('VmRSS'));
    this.peak.anon = Math.max(this.peak.anon, kib('RssAnon'));
    this.peak.file = Math.max(this.peak.file, kib('RssFile'));
    if (this.cgroup !== undefined) {
      const usage = this.cgroup.usage();
      this.cgroupPeak.anon = Math.max(this.cgroupPeak.anon, usage.anon);
      this.cgroupPeak.file = Math.max(this.cgroupPeak.file, usage.file);
    }
  }

  stop(): string {
    clearInterval(this.#timer);
    if (this.#metricsTimer !== undefined) clearInterval(this.#metricsTimer);
    this.sample();
    const breakdown = this.#breakdown === '' ? '' : ` (at the most ${this.#breakdown})`;
    const charged = this.cgroup === undefined ? '' : `; in its memory cgroup peak anonymous ${mib(this.cgroupPeak.anon)} MiB, peak page cache ${mib(this.cgroupPeak.file)} MiB`;
    return `peak RSS ${mib(this.peak.rss)} MiB, peak anonymous ${mib(this.peak.anon)} MiB${breakdown}, peak file-backed ${mib(this.peak.file)} MiB${charged}`;
  }
}

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** Starts the service, waits for /readyz, reads its peak RSS, stops it (SIGTERM) and waits for its exit. */
async function startUntilReady(service: 'miner' | 'auditor', env: Record<string, string>, timeoutMs = 3_600_000): Promise<Start> {
  const running = await launch(service, env, timeoutMs);
  try {
    return running.start;
  } finally {
    await running.stop();
  }
}

interface Running {
  readonly start: Start;
  readonly base: string;
  readonly pid: number;
  /** With --memory-limit: the service's memory cgroup (removed when it is stopped). */
  readonly cgroup?: MemoryCgroupHandle;
  /** Undefined while it runs; else why it ended, with the end of its stderr. */
  exited(): string | undefined;
  /** Whether it ended by SIGKILL (under --memory-limit: the OOM killer's signal). */
  killed(): boolean;
  stop(): Promise<void>;
}

let launches = 0;
/** What the OOM killer (SIGKILL) ended under --memory-limit. */
const oomKilled: string[] = [];
/** Each service's memory cgroup when it was stopped (--memory-limit). */
const cgroupRuns: { label: string; figures: CgroupFigures; killed: boolean }[] = [];

function describeCgroup(figures: CgroupFigures): string {
  return `memory cgroup (limit ${mib(figures.limitBytes)} MiB): peak usage ${mib(figures.peakBytes)} MiB, limit hit ${figures.limitHits} times, OOM kills ${figures.oomKills}`;
}

/** Starts the service and waits for /readyz; the caller stops it. */
async function launch(service: 'miner' | 'auditor', env: Record<string, string>, timeoutMs = 3_600_000, withFlags = true): Promise<Running> {
  const port = await allocatePort({ purpose: `bench restart ${service}` });
  const { args } = entry(service);
  const started = performance.now();
  const nodeFlags = withFlags && typeof options['node-flags'] === 'string' ? options['node-flags'].split(' ').filter((flag) => flag !== '') : [];
  launches += 1;
  const cgroup = memoryLimitMib === undefined ? undefined : createMemoryCgroup(`chainlog-bench-restart-${process.pid}-${launches}-${service}`, memoryLimitMib * 2 ** 20);
  // --cpus: pinned with taskset, so that the service sees that many cores (availableParallelism), as under a
  // container's CPU limit (usable-cores.ts: with one core the transactions topic is read on the main thread).
  const cpus = typeof options.cpus === 'string' ? options.cpus : undefined;
  const pinned = cpus === undefined ? { command: process.execPath, args: [...nodeFlags, ...args] } : { command: 'taskset', args: ['-c', cpus, process.execPath, ...nodeFlags, ...args] };
  const command = cgroup === undefined ? pinned : cgroup.wrap(pinned.command, pinned.args);
  const child: ChildProcess = spawn(command.command, command.args, {
    env: { ...process.env, ...env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logDir = options['service-logs'];
  if (typeof logDir === 'string') {
    mkdirSync(logDir, { recursive: true });
    const file = createWriteStream(join(logDir, `${service}-${child.pid}.log`));
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
  }
  const logs: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not JSON
      }
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let exitCode: number | string | null | undefined;
  void exited.then((code) => (exitCode = code));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const killedBefore = exitCode === 'SIGKILL';
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    if (cgroup !== undefined) {
      const figures = cgroup.figures();
      cgroupRuns.push({ label: `${service} (pid ${child.pid})`, figures, killed: killedBefore });
      console.log(`  ${service} (pid ${child.pid}) ${describeCgroup(figures)}${killedBefore ? ', it was killed by SIGKILL' : ''}`);
      await cgroup.remove();
    }
  };
  try {
    while (!(await ready(port))) {
      if (exitCode !== undefined) throw new Error(`${service} exited (${exitCode}) before it was ready:\n${stderr.slice(-2000)}`);
      if (performance.now() - started > timeoutMs) throw new Error(`${service} not ready within ${timeoutMs} ms`);
      await sleep(50);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const readySeconds = (performance.now() - started) / 1000;
  const exitedWhy = (): string | undefined => (exitCode === undefined ? undefined : `${service} exited (${exitCode}); its last log lines:\n${logs.slice(-5).map((line) => JSON.stringify(line).slice(0, 1000)).join('\n')}\nstderr:\n${stderr.slice(-4000)}`);
  return {
    start: { readySeconds, peakRssBytes: peakRss(child.pid as number), logs },
    base: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    ...(cgroup === undefined ? {} : { cgroup }),
    exited: exitedWhy,
    killed: () => exitCode === 'SIGKILL',
    stop,
  };
}

/** Waits until the auditor's index holds every block and its ledger applied them all (its /readyz detail). */
async function backfilled(running: Running, timeoutMs: number, progress?: () => string, partialAfterMs?: number): Promise<{ seconds: number; complete: boolean; index: unknown }> {
  const started = performance.now();
  let reported = started;
  for (;;) {
    let detail: { height?: number; index?: { complete?: boolean; ledgerHeight?: number } };
    try {
      // A service thrashing under a memory limit may not answer for minutes: the deadlines below still apply.
      detail = (await (await fetch(`${running.base}/readyz`, { signal: AbortSignal.timeout(10_000) })).json()) as typeof detail;
    } catch (error) {
      // A connection reset on a loaded machine is retried; a service that died is the finding.
      await sleep(200);
      const why = running.exited();
      if (why !== undefined) throw new Error(why, { cause: error });
      const waited = (performance.now() - started) / 1000;
      if (partialAfterMs !== undefined && waited * 1000 >= partialAfterMs) return { seconds: waited, complete: false, index: `no answer to /readyz within 10 s (${(error as Error).message})` };
      continue;
    }
    const seconds = (performance.now() - started) / 1000;
    if (detail.index?.complete === true && detail.index.ledgerHeight === detail.height) return { seconds, complete: true, index: detail.index };
    if (partialAfterMs !== undefined && seconds * 1000 >= partialAfterMs) return { seconds, complete: false, index: detail.index };
    if (progress !== undefined && performance.now() - reported > 60_000) {
      reported = performance.now();
      console.log(`  back-fill under way, ${((reported - started) / 1000).toFixed(0)} s: ${JSON.stringify(detail.index)}; ${progress()}; load ${loadAverage()}`);
    }
    if (performance.now() - started > timeoutMs) throw new Error(`the auditor's back-fill did not finish within ${timeoutMs} ms: ${JSON.stringify(detail)}`);
    await sleep(500);
  }
}

/**
 * Requests to the auditor while it back-fills: the HTTP round trip (/healthz), a balance (accounts are the
 * generator's account-0 … account-9999) and the status with proof of a transaction in the newest block (held
 * since ready: the lookups users make of what they just sent).
 */
async function backfillProbe(base: string): Promise<ResponsivenessProbe> {
  const head = (await (await fetch(`${base}/v1/chain/head`)).json()) as { height: number };
  const response = await fetch(`${base}/v1/blocks/${head.height}`);
  const ids = response.status === 200 ? ((await response.json()) as { block: { transactions: { id: string }[] } }).block.transactions.map((t) => t.id) : [];
  return new ResponsivenessProbe(base, (round) => ({
    'GET /healthz': '/healthz',
    'balance ?limit=1': `/v1/accounts/account-${(round * 7919) % 10_000}?limit=1`,
    ...(ids.length === 0 ? {} : { 'status + proof (newest block)': `/v1/transactions/${encodeURIComponent(ids[(round * 31) % ids.length] as string)}` }),
  }));
}

/** A metric's value from the service's /metrics (the first series of that name). */
async function metricValue(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Polls `done` every 500 ms (a reset connection is retried; a service that died is the finding). */
async function until(running: Running, done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = performance.now();
  for (;;) {
    try {
      if (await done()) return;
    } catch (error) {
      const why = running.exited();
      if (why !== undefined) throw new Error(why, { cause: error });
    }
    if (performance.now() - started > timeoutMs) throw new Error(`not done within ${timeoutMs} ms`);
    await sleep(500);
  }
}

/**
 * Bytes allocated under a directory (a store's files may be sparse: the apparent size says little). A file gone
 * between the listing and its stat (LevelDB deletes the tables a compaction replaced) counts as nothing.
 */
function allocatedBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const stat = statSync(join(dir, name), { throwIfNoEntry: false });
    if (stat === undefined) continue;
    total += stat.isDirectory() ? allocatedBytes(join(dir, name)) : stat.blocks * 512;
  }
  return total;
}

/** Seconds for a raw kafkajs consumer to read the whole topic (no decoding), from its first message. */
async function rawConsume(kafka: ReturnType<typeof benchKafka>, topic: string, messages: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-restart-raw-${randomUUID()}`, allowAutoTopicCreation: false });
  let seen = 0;
  let first: number | undefined;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat }) => {
      first ??= performance.now();
      seen += batch.messages.length;
      await heartbeat();
    },
  });
  while (seen < messages) await sleep(1);
  const seconds = (performance.now() - (first ?? performance.now())) / 1000;
  await consumer.disconnect();
  return seconds;
}

printHeader('restart: time to ready and peak RSS, from genesis and from a checkpoint', {
  total,
  perBlock,
  windowMs,
  miner: entry('miner').from,
  auditor: entry('auditor').from,
});
const broker = await benchBroker(typeof options.brokers === 'string' ? options.brokers : undefined, 2048);
try {
  const kafka = benchKafka(broker.brokers);
  const chainFile = typeof options['chain-state'] === 'string' ? options['chain-state'] : undefined;
  if (chainFile !== undefined && broker.own) throw new Error('--chain-state needs --brokers: a broker of our own is removed at the end of the run');
  const reused = chainFile !== undefined && existsSync(chainFile) ? await reusedChain(kafka, chainFile, broker.brokers) : undefined;
  const topics = {
    TOPIC_TRANSACTIONS: reused?.topics.transactions ?? benchTopic('restart-transactions'),
    TOPIC_BLOCKCHAIN: reused?.topics.blockchain ?? benchTopic('restart-chain'),
    // Fresh for every run: the services write to them (checkpoints, audit events).
    TOPIC_AUDIT: benchTopic('restart-audit'),
    TOPIC_DEAD_LETTER: benchTopic('restart-dlq'),
    TOPIC_CHECKPOINTS: benchTopic('restart-checkpoints'),
  };
  let built: BuiltChain;
  if (reused !== undefined) {
    built = reused.built;
    console.log(`reusing the chain in ${chainFile}: ${built.blocks} blocks, ${total} transactions, ${mib(built.bytes)} MiB on ${topics.TOPIC_BLOCKCHAIN} (built in ${built.seconds.toFixed(1)} s)`);
  } else {
    await createTopics(kafka, [
      { topic: topics.TOPIC_BLOCKCHAIN, partitions: 1 },
      { topic: topics.TOPIC_TRANSACTIONS, partitions: 1 },
    ]);
    let reported = 0;
    built = await buildAndPublish(
      kafka,
      { topic: topics.TOPIC_BLOCKCHAIN, transactionsTopic: topics.TOPIC_TRANSACTIONS, total, perBlock, accounts: 10_000, blockReward: BLOCK_REWARD, windowMs },
      (done) => {
        if (done - reported >= 1_000_000) {
          reported = done;
          console.log(`  generated ${done} transactions, load ${loadAverage()}`);
        }
      },
    );
    console.log(`generated and published ${built.blocks} blocks, ${total} transactions, ${mib(built.bytes)} MiB in ${built.seconds.toFixed(1)} s (${rate(total / built.seconds)} tx/s), load ${loadAverage()}`);
    if (chainFile !== undefined) {
      saveChain(chainFile, { brokers: broker.brokers, parameters: chainParameters, topics: { blockchain: topics.TOPIC_BLOCKCHAIN, transactions: topics.TOPIC_TRANSACTIONS }, built });
      console.log(`wrote ${chainFile}: later runs with --brokers ${broker.brokers} --chain-state ${chainFile} reuse this chain`);
    }
  }

  const rawSeconds = await rawConsume(kafka, topics.TOPIC_BLOCKCHAIN, built.blocks);
  console.log(`raw consume of the blockchain topic: ${rawSeconds.toFixed(1)} s, load ${loadAverage()}`);

  const common = {
    KAFKA_BROKERS: broker.brokers,
    ...topics,
    DIFFICULTY: '0',
    BLOCK_REWARD: String(BLOCK_REWARD),
    REPLAY_WINDOW_MS: String(windowMs),
  };
  const minerEnv = (extra: Record<string, string>): Record<string, string> => ({
    ...common,
    MINER_ID: 'bench-restart-miner',
    MINER_ORDINAL: '0',
    MINER_GROUP_ID: benchTopic('restart-miners'),
    ...extra,
  });
  const runs: { label: string; service: string; start: Start }[] = [];
  const run = async (label: string, service: 'miner' | 'auditor', env: Record<string, string>): Promise<Start> => report(label, service, await startUntilReady(service, env));
  function report(label: string, service: 'miner' | 'auditor', start: Start): Start {
    runs.push({ label, service, start });
    console.log(`${label}: ready in ${start.readySeconds.toFixed(1)} s, peak RSS ${mib(start.peakRssBytes)} MiB, load ${loadAverage()}`);
    // Where the time went: each start-up log line, in ms after the service's first one.
    const time = (line: Record<string, unknown> | undefined): number => (typeof line?.time === 'number' ? line.time : Date.parse(String(line?.time)));
    const first = time(start.logs[0]);
    const phases = [
      'chain restored from a checkpoint',
      'no usable checkpoint: replaying the chain from genesis',
      'stored index is on the chain: answering from it',
      'stored index not used: rebuilding it from the chain',
      'chain caught up',
      'caught up with the blockchain topic',
      'partition ownership changed',
      'miner started',
      'auditor started',
      'auditor ready',
    ];
    const seen = start.logs.filter((line) => phases.includes(String(line.msg))).map((line) => `${String(line.msg)} +${time(line) - first} ms`);
    if (seen.length > 0) console.log(`  ${seen.join(', ')}`);
    return start;
  }
  const generated = options['generated-checkpoint'] === true;
  if (generated) await writeGeneratedCheckpoint(kafka, topics.TOPIC_CHECKPOINTS, topics.TOPIC_BLOCKCHAIN, built);
  if (!generated) await run('miner, replay from genesis (checkpoints off)', 'miner', minerEnv({ CHECKPOINT_RESTORE: 'false', CHECKPOINT_EVERY_TRANSACTIONS: '0', CHECKPOINT_EVERY_BLOCKS: '0' }));
  if (!generated) {
    const writer = await run(
      'miner, replay from genesis, writing checkpoints',
      'miner',
      minerEnv({ CHECKPOINT_RESTORE: 'false', ...(typeof options['every-transactions'] === 'string' ? { CHECKPOINT_EVERY_TRANSACTIONS: options['every-transactions'] } : {}) }),
    );
    const written = writer.logs.filter((line) => line.msg === 'checkpoint written');
    for (const failure of writer.logs.filter((line) => line.msg === 'writing a checkpoint failed')) console.log(`  checkpoint write failed: ${JSON.stringify(failure.err)}`);
    console.log(`  checkpoints written while replaying: ${written.length}, the last at block ${String(written.at(-1)?.tipIndex)} of ${built.blocks - 1}`);
  }
  // The background verification from genesis starts once the miner is ready; off here so that it cannot add to the figure.
  const restored = await run('miner, from the newest checkpoint', 'miner', minerEnv({ CHECKPOINT_VERIFY: 'false' }));
  const restoreLine = restored.logs.find((line) => line.msg === 'chain restored from a checkpoint');
  if (restoreLine === undefined) throw new Error('the miner did not restore from a checkpoint');
  console.log(`  restored at block ${String(restoreLine.tipIndex)} (${String(restoreLine.keptIds)} window ids) in ${String(restoreLine.ms)} ms`);
  let verifyPeaks: RssSampler['peak'] | undefined;
  if (options['miner-verify'] === true) {
    const verifying = await launch('miner', minerEnv({ CHECKPOINT_VERIFY: 'true' }));
    try {
      report('miner, from the newest checkpoint, verifying from genesis in the background', 'miner', verifying.start);
      const sampler = new RssSampler(verifying.pid, verifying.base, verifying.cgroup);
      const started = performance.now();
      let ratio = 0;
      try {
        await until(verifying, async () => (ratio = (await metricValue(verifying.base, 'chainlog_chain_verification_ratio')) ?? 0) === 1, 6 * 3_600_000);
      } catch (error) {
        // Under --memory-limit an OOM kill is the finding, not the end of the benchmark.
        if (!verifying.killed()) throw error;
        oomKilled.push(`miner during the background verification, at ${(ratio * 100).toFixed(0)}%`);
        console.log(`  background verification from genesis: KILLED (SIGKILL) ${((performance.now() - started) / 1000).toFixed(1)} s after ready at ${(ratio * 100).toFixed(0)}%; until then ${sampler.stop()}; load ${loadAverage()}`);
      }
      verifyPeaks = sampler.peak;
      if (!verifying.killed()) console.log(`  background verification from genesis: done ${((performance.now() - started) / 1000).toFixed(1)} s after ready; during it ${sampler.stop()}; load ${loadAverage()}`);
    } finally {
      await verifying.stop();
    }
  }
  const lookups: { label: string; figures: LookupFigures[] }[] = [];
  let auditorFromCheckpoint: Start | undefined;
  let auditorRestarted: Start | undefined;
  let backfillPeaks: RssSampler['peak'] | undefined;
  let lookupPeaks: RssSampler['peak'] | undefined;
  let backfillPartial = false;
  if (options['no-auditor'] !== true) {
    const auditorEnv = { ...common, AUDIT_PUBLISH: 'false' };
    // Sampled once from the first auditor that answers, so every auditor is asked the same questions.
    let sample: Awaited<ReturnType<typeof sampleCommitted>> | undefined;
    const measure = async (label: string, base: string): Promise<void> => {
      sample ??= await sampleCommitted(base, Math.max(1, Math.ceil(lookupCount / 4)), 4);
      const figures = await measureLookups(base, sample, lookupCount);
      lookups.push({ label, figures });
      console.log(`  lookups (${label}), load ${loadAverage()}: ${figures.map((f) => `${f.what} p50 ${f.p50Ms.toFixed(2)} p99 ${f.p99Ms.toFixed(2)} ms${f.failures > 0 ? ` (${f.failures} failed)` : ''}`).join('; ')}`);
    };
    if (!generated || options['auditor-replay'] === true) {
      const replay = await launch('auditor', { ...auditorEnv, CHECKPOINT_RESTORE: 'false' }, undefined, false);
      try {
        report('auditor, replay from genesis (index in memory, no DATA_DIR)', 'auditor', replay.start);
        await measure('in memory, after a replay', replay.base);
        console.log(`  ${rssNow(replay.pid)}`);
      } finally {
        await replay.stop();
      }
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-bench-auditor-'));
    try {
      const fresh = await launch('auditor', { ...auditorEnv, DATA_DIR: dataDir });
      try {
        auditorFromCheckpoint = report('auditor, from the newest checkpoint, fresh DATA_DIR', 'auditor', fresh.start);
        if (options['no-backfill'] !== true) {
          const sampler = new RssSampler(fresh.pid, fresh.base, fresh.cgroup);
          const probe = await backfillProbe(fresh.base);
          const started = performance.now();
          const partialAfterMs = options['backfill-seconds'] === undefined ? undefined : intFlag(options['backfill-seconds'], 0) * 1000;
          const outcome = await backfilled(fresh, 6 * 3_600_000, () => `so far peak RSS ${mib(sampler.peak.rss)} MiB, anonymous ${mib(sampler.peak.anon)}, file-backed ${mib(sampler.peak.file)}`, partialAfterMs).catch((error: unknown) => {
            if (!fresh.killed()) throw error;
            return undefined;
          });
          backfillPeaks = sampler.peak;
          console.log(`  requests during the back-fill, one at a time every 100 ms: ${formatProbe(await probe.stop())}`);
          if (outcome !== undefined && !outcome.complete) {
            backfillPartial = true;
            console.log(
              `  back-fill of the index from genesis: NOT complete, stopped after ${outcome.seconds.toFixed(1)} s (--backfill-seconds): ${JSON.stringify(outcome.index)}; during it ${sampler.stop()}; ${rssNow(fresh.pid)}; index on disk ${mib(allocatedBytes(dataDir))} MiB; load ${loadAverage()}`,
            );
          } else if (outcome === undefined) {
            oomKilled.push('auditor during the back-fill');
            console.log(`  back-fill of the index: the auditor was KILLED (SIGKILL) ${((performance.now() - started) / 1000).toFixed(1)} s after ready; until then ${sampler.stop()}; load ${loadAverage()}`);
          } else {
            console.log(
              `  back-fill of the index from genesis (the background verification's replay): done ${outcome.seconds.toFixed(1)} s after ready; during it ${sampler.stop()}; peak RSS so far ${mib(peakRss(fresh.pid))} MiB; ${rssNow(fresh.pid)}; index on disk ${mib(allocatedBytes(dataDir))} MiB; load ${loadAverage()}`,
            );
          }
        }
      } finally {
        await fresh.stop();
      }
      if (options['no-backfill'] !== true && !backfillPartial && oomKilled.every((what) => !what.startsWith('auditor'))) {
        // Its index is complete: the background verification is then CHECKPOINT_VERIFY's to run; off here (as for the
        // miner), so that it neither adds to the figures nor competes with the lookups.
        const again = await launch('auditor', { ...auditorEnv, DATA_DIR: dataDir, CHECKPOINT_VERIFY: 'false' });
        try {
          auditorRestarted = report('auditor, restart on its DATA_DIR (index complete)', 'auditor', again.start);
          const sampler = new RssSampler(again.pid, again.base, again.cgroup);
          await measure('on disk (LevelDB), after a restart', again.base);
          lookupPeaks = sampler.peak;
          console.log(`  during the lookups ${sampler.stop()}; peak RSS after the lookups: ${mib(peakRss(again.pid))} MiB; ${rssNow(again.pid)}`);
        } finally {
          await again.stop();
        }
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  const rows: Row[] = runs.map(({ label, start }) => ({
    start: label,
    'ready s': Math.round(start.readySeconds * 10) / 10,
    // One decimal: from a checkpoint a service is ready in less time than a raw consumer reads a long topic.
    '× raw consume': `${(start.readySeconds / rawSeconds).toFixed(1)}×`,
    'peak RSS MiB': mib(start.peakRssBytes),
  }));
  rows.unshift({ start: `raw kafkajs consume of the blockchain topic (${built.blocks} blocks)`, 'ready s': Math.round(rawSeconds * 10) / 10, '× raw consume': '1×', 'peak RSS MiB': '' });
  printTable(`restarting on ${total} transactions in ${built.blocks} blocks (${mib(built.bytes)} MiB), window ${windowMs} ms`, rows);
  for (const { label, figures } of lookups) {
    const baseline = figures[0];
    printTable(
      `auditor lookups over HTTP, ${label}: ${lookupCount} requests each, one at a time, random committed transactions`,
      figures.map((f) => ({
        lookup: f.what,
        'p50 ms': Math.round(f.p50Ms * 100) / 100,
        'p99 ms': Math.round(f.p99Ms * 100) / 100,
        'p99 × /healthz': baseline === undefined ? '' : `${(f.p99Ms / baseline.p99Ms).toFixed(1)}×`,
        failed: f.failures,
      })),
    );
  }
  if (cgroupRuns.length > 0) {
    printTable(
      `memory cgroups, limit ${memoryLimitMib} MiB each (one per service started, in start order)`,
      cgroupRuns.map(({ label, figures, killed }) => ({
        service: label,
        'peak usage MiB': mib(figures.peakBytes),
        'limit hits': figures.limitHits,
        'OOM kills': figures.oomKills,
        'SIGKILL': killed ? 'yes' : 'no',
      })),
    );
    for (const what of oomKilled) console.log(`OOM-killed: ${what}`);
  }
  console.log(`load average at end: ${loadAverage()}`);
  verdict('miner ready from a checkpoint (s)', restored.readySeconds, 5, ' s', false);
  verdict('miner peak RSS from a checkpoint (MiB)', mib(restored.peakRssBytes), 256, ' MiB', false);
  if (auditorFromCheckpoint !== undefined) {
    verdict('auditor ready from a checkpoint, fresh DATA_DIR (s)', auditorFromCheckpoint.readySeconds, 5, ' s', false);
    verdict('auditor peak RSS at ready from a checkpoint (MiB)', mib(auditorFromCheckpoint.peakRssBytes), 256, ' MiB', false);
  }
  if (auditorRestarted !== undefined) verdict('auditor ready on its DATA_DIR (s)', auditorRestarted.readySeconds, 5, ' s', false);
  if (verifyPeaks !== undefined) verdict('miner peak RSS during the background verification (MiB)', mib(verifyPeaks.rss), 256, ' MiB', false);
  // The goal is on the whole resident set; the anonymous part is what a memory limit cannot reclaim.
  if (backfillPeaks !== undefined) {
    const part = backfillPartial ? ' (PART of it: --backfill-seconds)' : '';
    verdict(`auditor peak RSS during the back-fill${part} (MiB)`, mib(backfillPeaks.rss), 256, ' MiB', false);
    verdict(`auditor peak anonymous RSS during the back-fill${part} (MiB)`, mib(backfillPeaks.anon), 256, ' MiB', false);
  }
  if (lookupPeaks !== undefined) {
    verdict('auditor peak RSS during the lookups (MiB)', mib(lookupPeaks.rss), 256, ' MiB', false);
    verdict('auditor peak anonymous RSS during the lookups (MiB)', mib(lookupPeaks.anon), 256, ' MiB', false);
  }
  const onDisk = lookups.find(({ label }) => label.startsWith('on disk'))?.figures.slice(1) ?? [];
  for (const figure of onDisk.slice(0, 2)) verdict(`auditor p99 ${figure.what.split(':')[0]} (ms)`, figure.p99Ms, 20, ' ms', false);
} finally {
  await broker.stop();
}

/** The chain a --chain-state file names, once its parameters match and its topics still hold all of it. */
async function reusedChain(kafka: ReturnType<typeof benchKafka>, file: string, brokers: string): Promise<SavedChain> {
  const saved = loadChain(file);
  const mismatch = chainMismatch(saved, chainParameters, brokers);
  if (mismatch !== undefined) throw new Error(`${file} names another chain: ${mismatch} (remove the file to build a new one)`);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = async (topic: string): Promise<number> => Number((await admin.fetchTopicOffsets(topic)).find(({ partition }) => partition === 0)?.high ?? -1);
    const [blocks, transactions] = [await ends(saved.topics.blockchain), await ends(saved.topics.transactions)];
    if (blocks !== saved.built.blocks || transactions !== total) {
      throw new Error(`${file}: the broker holds ${blocks} blocks and ${transactions} transactions, the file says ${saved.built.blocks} and ${total} (remove the file to build a new chain)`);
    }
  } finally {
    await admin.disconnect();
  }
  return saved;
}

/** The checkpoint a miner would write at the tip, from the generator's state (unsigned: the chain is open). */
async function writeGeneratedCheckpoint(kafka: ReturnType<typeof benchKafka>, topic: string, blockchainTopic: string, built: BuiltChain): Promise<void> {
  // Exactly the parameters the miner reads from the same variables (the checkpoint binds them by hash).
  const params = readConsensusConfig(new EnvReader({ DIFFICULTY: '0', BLOCK_REWARD: String(BLOCK_REWARD), REPLAY_WINDOW_MS: String(windowMs) }));
  await publishGeneratedCheckpoint(kafka, topic, blockchainTopic, built, params);
  console.log(`generator wrote the checkpoint at block ${built.state?.tip.index}: ${built.state?.recentIds.length} window ids`);
}
