// Restart: time from process start to ready (/readyz 200) and peak RSS of a miner and of the auditor on a chain
// of N transactions, against the raw consume rate of the same blockchain topic in the same run. A miner is
// started three ways: replaying from genesis (checkpoints off), replaying while it writes checkpoints (so one
// exists near the tip, as in a running deployment), and continuing from the newest checkpoint; the auditor
// replays from genesis (it has no checkpoint path yet). The chain is built with the protocol and published
// straight to the topics (bench/lib/chain.ts), with a replay window, so checkpoints apply.
//
//   npm run bench:restart -- [--transactions 1000000] [--window-ms 60000] [--no-auditor]
// The services run from their compiled dist/ when present (npm run build), as a container does; else from source.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { benchBroker, benchKafka, benchTopic, createTopics } from './lib/broker.js';
import { buildAndPublish } from './lib/chain.js';
import { EnvReader, readConsensusConfig } from '@chainlog/core/config';
import { CheckpointWriter, ensureCheckpointTopic } from '@chainlog/core/kafka';
import { createCheckpoint } from '@chainlog/core/protocol';
import { flags, intFlag, loadAverage, mib, printHeader, printTable, rate, sleep, verdict, type Row } from './lib/report.js';
import { allocatePort } from '../scripts/lib/ports.js';

const USAGE = `bench/restart.ts: time to ready and peak RSS of a restarted miner and auditor
  --transactions <n>         user transactions in the chain (default 1000000)
  --block-transactions <n>   user transactions per block (default 2000)
  --window-ms <ms>           REPLAY_WINDOW_MS of the chain (default 60000; the chain has 1000 tx per second of block time)
  --every-transactions <n>   CHECKPOINT_EVERY_TRANSACTIONS of the writing miner (default: the miner's default)
  --no-auditor               skip the auditor (its full replay is the slow part)
  --generated-checkpoint     write the checkpoint from the generator (the state at the tip, unsigned: open mode)
                             and skip the replays from genesis: only the restart from the checkpoint is timed
                             (how 10M is measured on a small machine)
  --brokers <host:port>      use this broker instead of starting one`;

const options = flags(USAGE, {
  transactions: { type: 'string' },
  'block-transactions': { type: 'string' },
  'window-ms': { type: 'string' },
  'every-transactions': { type: 'string' },
  'no-auditor': { type: 'boolean' },
  'generated-checkpoint': { type: 'boolean' },
  brokers: { type: 'string' },
});

const total = intFlag(options.transactions, 1_000_000);
const perBlock = intFlag(options['block-transactions'], 2000);
const windowMs = intFlag(options['window-ms'], 60_000);
const BLOCK_REWARD = 50;

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

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** Starts the service, waits for /readyz, reads its peak RSS, stops it (SIGTERM) and waits for its exit. */
async function startUntilReady(service: 'miner' | 'auditor', env: Record<string, string>, timeoutMs = 3_600_000): Promise<Start> {
  const port = await allocatePort({ purpose: `bench restart ${service}` });
  const { args } = entry(service);
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, ...env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  try {
    while (!(await ready(port))) {
      if (exitCode !== undefined) throw new Error(`${service} exited (${exitCode}) before it was ready:\n${stderr.slice(-2000)}`);
      if (performance.now() - started > timeoutMs) throw new Error(`${service} not ready within ${timeoutMs} ms`);
      await sleep(50);
    }
    const readySeconds = (performance.now() - started) / 1000;
    return { readySeconds, peakRssBytes: peakRss(child.pid as number), logs };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
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
  const topics = {
    TOPIC_TRANSACTIONS: benchTopic('restart-transactions'),
    TOPIC_BLOCKCHAIN: benchTopic('restart-chain'),
    TOPIC_AUDIT: benchTopic('restart-audit'),
    TOPIC_DEAD_LETTER: benchTopic('restart-dlq'),
    TOPIC_CHECKPOINTS: benchTopic('restart-checkpoints'),
  };
  await createTopics(kafka, [
    { topic: topics.TOPIC_BLOCKCHAIN, partitions: 1 },
    { topic: topics.TOPIC_TRANSACTIONS, partitions: 1 },
  ]);
  let reported = 0;
  const built = await buildAndPublish(
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
  const run = async (label: string, service: 'miner' | 'auditor', env: Record<string, string>): Promise<Start> => {
    const start = await startUntilReady(service, env);
    runs.push({ label, service, start });
    console.log(`${label}: ready in ${start.readySeconds.toFixed(1)} s, peak RSS ${mib(start.peakRssBytes)} MiB, load ${loadAverage()}`);
    // Where the time went: each start-up log line, in ms after the service's first one.
    const first = Number(start.logs[0]?.time ?? 0);
    const phases = ['chain restored from a checkpoint', 'no usable checkpoint: replaying the chain from genesis', 'chain caught up', 'partition ownership changed', 'miner started', 'auditor started', 'auditor ready'];
    const seen = start.logs.filter((line) => phases.includes(String(line.msg))).map((line) => `${String(line.msg)} +${Number(line.time) - first} ms`);
    if (seen.length > 0) console.log(`  ${seen.join(', ')}`);
    return start;
  };
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
  if (options['no-auditor'] !== true && !generated) {
    await run('auditor, replay from genesis', 'auditor', common);
  }

  const rows: Row[] = runs.map(({ label, start }) => ({
    start: label,
    'ready s': Math.round(start.readySeconds * 10) / 10,
    '× raw consume': `${Math.round(start.readySeconds / rawSeconds)}×`,
    'peak RSS MiB': mib(start.peakRssBytes),
  }));
  rows.unshift({ start: `raw kafkajs consume of the blockchain topic (${built.blocks} blocks)`, 'ready s': Math.round(rawSeconds * 10) / 10, '× raw consume': '1×', 'peak RSS MiB': '' });
  printTable(`restarting on ${total} transactions in ${built.blocks} blocks (${mib(built.bytes)} MiB), window ${windowMs} ms`, rows);
  console.log(`load average at end: ${loadAverage()}`);
  verdict('miner ready from a checkpoint (s)', restored.readySeconds, 5, ' s', false);
  verdict('miner peak RSS from a checkpoint (MiB)', mib(restored.peakRssBytes), 256, ' MiB', false);
} finally {
  await broker.stop();
}

/** The checkpoint a miner would write at the tip, from the generator's state (unsigned: the chain is open). */
async function writeGeneratedCheckpoint(kafka: ReturnType<typeof benchKafka>, topic: string, blockchainTopic: string, built: Awaited<ReturnType<typeof buildAndPublish>>): Promise<void> {
  const state = built.state;
  if (state === undefined) throw new Error('the generator kept no state');
  // Exactly the parameters the miner reads from the same variables (the checkpoint binds them by hash).
  const params = readConsensusConfig(new EnvReader({ DIFFICULTY: '0', BLOCK_REWARD: String(BLOCK_REWARD), REPLAY_WINDOW_MS: String(windowMs) }));
  const checkpoint = createCheckpoint(state, params, {
    blockchainTopic,
    tipOffset: built.blocks - 1,
    tipIndex: state.tip.index,
    tipHash: state.tip.hash,
    writer: 'bench-generator',
    writtenAt: Date.now(),
  });
  if (checkpoint === undefined) throw new Error('no checkpoint');
  const admin = kafka.admin();
  await admin.connect();
  await ensureCheckpointTopic(admin, topic, 1);
  await admin.disconnect();
  const writer = new CheckpointWriter(kafka, topic);
  await writer.write(checkpoint);
  await writer.stop();
  console.log(`generator wrote the checkpoint at block ${state.tip.index}: ${state.recentIds.length} window ids, ${checkpoint.parts.length} parts`);
}
