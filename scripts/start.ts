// `npm start`: from a clone to a running ledger in one command, without Docker.
//   build (tsc -b) → Kafka broker (.data/kafka) → topics → ingest, one miner per partition, auditor
// supervised (restarted with backoff when they crash), their JSON logs pretty-printed with a coloured
// prefix. Ctrl-C stops the services first, then the broker (when this command started it).
// Options: npm start -- --help (scripts/lib/start-options.ts).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { AUDITOR_ROUTES, INGEST_ROUTES } from '@chainlog/core/api';
import { DEFAULT_TOPIC_NAMES as DEFAULT_TOPICS, EnvReader, readCheckpointConfig } from '@chainlog/core/config';
import { chainlogTopics, checkpointTopicSpec, ensureTopics, partitionCount } from '@chainlog/core/kafka';
import { KAFKA_VERSION, runningBrokerPid, startBroker, stopBrokerInDir, stopBrokerProcess } from './lib/kafka-broker.js';
import { nodeDir, startCluster, stopClusterInDir } from './lib/kafka-cluster.js';
import { kafkaNodePorts, parseStartOptions, START_USAGE, START_VARIABLES, StartUsageError, type StartOptions } from './lib/start-options.js';
import { portIsFree } from './lib/ports.js';
import { servicePlan, type PlanKeys } from './lib/start-plan.js';
import { ensureStartKeys, type StartKeys } from './lib/start-keys.js';
import { isAlive, signalGroup, Supervisor, type ServiceSpec } from './lib/supervisor.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = ['ingest', 'miner', 'auditor'] as const;

interface RunState {
  supervisorPid: number;
  brokerPid: number | undefined;
  /** True when this run started the broker, so it stops it too. */
  brokerStartedHere: boolean;
  brokers: string;
  children: Record<string, number | undefined>;
  ports: Record<string, number>;
}

const colours = process.stdout.isTTY === true;
let useColours = colours;
function paint(code: number, text: string): string {
  return useColours ? `\u001b[${code}m${text}\u001b[0m` : text;
}
function say(message: string): void {
  process.stdout.write(`${paint(1, 'chainlog')} ${message}\n`);
}
/** A failure with a one-line explanation: what was started so far is stopped, then exit 1. */
class StartError extends Error {}
function fail(message: string): never {
  throw new StartError(message);
}

/** A path as people read it: relative when inside the current directory, absolute otherwise. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

/** The command line of a live process, to recognise our own leftovers (Linux /proc; undefined elsewhere). */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

function readState(file: string): RunState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunState;
  } catch {
    return undefined;
  }
}

/** Refuses to run twice on one data dir; ends services a previous run left behind (e.g. after kill -9). */
function cleanUpLeftovers(stateFile: string): void {
  const previous = readState(stateFile);
  if (previous === undefined) return;
  if (previous.supervisorPid !== process.pid && isAlive(previous.supervisorPid) && commandLine(previous.supervisorPid)?.includes('start.ts') !== false) {
    fail(`Chainlog is already running from this data dir (pid ${previous.supervisorPid}); stop it with Ctrl-C, or use another --data-dir`);
  }
  for (const [name, pid] of Object.entries(previous.children)) {
    if (pid === undefined || !isAlive(pid)) continue;
    if (commandLine(pid)?.includes(`services/`) === true) {
      say(`ending ${name} (pid ${pid}) left running by a previous run`);
      signalGroup(pid, 'SIGKILL');
    }
  }
  rmSync(stateFile, { force: true });
}

/** Exit status of `node <script> <args>` run in the repository (asynchronous, so Ctrl-C is handled meanwhile). */
function runNode(script: string, args: string[], cwd = ROOT): Promise<number | null> {
  return new Promise<number | null>((resolveRun) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: 'inherit' });
    child.once('error', () => resolveRun(null));
    child.once('exit', (code) => resolveRun(code));
  });
}

const EXPLORER_DIR = join(ROOT, 'services', 'explorer');

/** The explorer's static files (Vite), which the auditor serves at `/`; type-checking them is npm run build's. */
async function buildExplorer(): Promise<void> {
  const started = Date.now();
  const vite = join(dirname(createRequire(join(EXPLORER_DIR, 'package.json')).resolve('vite/package.json')), 'bin', 'vite.js');
  const status = await runNode(vite, ['build', '--logLevel', 'warn'], EXPLORER_DIR);
  if (interrupted) return;
  if (status !== 0) fail('the explorer build failed (see above)');
  say(`explorer built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function build(options: StartOptions): Promise<void> {
  if (options.source || !options.build) {
    const missing = SERVICES.filter((service) => !options.source && !existsSync(join(ROOT, 'services', service, 'dist', 'main.js')));
    if (missing.length > 0) fail(`--no-build, but ${missing.join(', ')} not built: run npm run build`);
    // The explorer has no source mode: build it once if it never was.
    if (options.build && !existsSync(join(EXPLORER_DIR, 'dist', 'index.html'))) await buildExplorer();
    return;
  }
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const started = Date.now();
  say(`building ${SERVICES.join(', ')} (tsc -b)…`);
  const status = await runNode(tsc, ['-b', ...SERVICES.map((service) => `services/${service}`)]);
  if (interrupted) return;
  if (status !== 0) fail('the build failed (see above); fix it, or run the sources with --source');
  say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await buildExplorer();
}

interface BrokerInUse {
  brokers: string;
  pid: number | undefined;
  startedHere: boolean;
  /** A local cluster this run started: stops every node. */
  stopCluster?: () => Promise<void>;
}

/** `--kafka-brokers N` (N ≥ 3): a local KRaft cluster in <data-dir>/kafka-cluster, one node per port pair. */
async function ensureCluster(options: StartOptions, clusterDir: string): Promise<BrokerInUse> {
  const nodes = kafkaNodePorts(options);
  const brokers = nodes.map(({ port }) => `127.0.0.1:${port}`).join(',');
  const running = nodes.map((_, i) => runningBrokerPid(nodeDir(clusterDir, i + 1))).filter((pid) => pid !== undefined);
  if (running.length > 0) {
    fail(`Kafka nodes (pids ${running.join(', ')}) already run from ${shown(clusterDir)}; stop them (npm run kafka:stop) or use another --data-dir`);
  }
  for (const port of nodes.flatMap(({ port, controllerPort }) => [port, controllerPort])) {
    if (!(await portIsFree(port))) fail(`port ${port} is in use (another Kafka?): choose --kafka-port / --controller-port and another --data-dir`);
  }
  clusterStartingIn = clusterDir;
  say(`starting a ${nodes.length}-node Kafka ${KAFKA_VERSION} cluster on ${brokers} (data and logs in ${shown(clusterDir)}/node-*)…`);
  const started = Date.now();
  const cluster = await startCluster({ dataDir: clusterDir, nodes: nodes.length, ports: nodes });
  say(`Kafka cluster is up in ${((Date.now() - started) / 1000).toFixed(1)} s (pids ${cluster.nodes.map((node) => node.pid).join(', ')})`);
  return { brokers, pid: cluster.nodes[0]?.pid, startedHere: true, stopCluster: () => cluster.stop() };
}

async function ensureBroker(options: StartOptions, kafkaDir: string): Promise<BrokerInUse> {
  if (options.externalBrokers !== undefined) {
    say(`using Kafka at ${options.externalBrokers}`);
    return { brokers: options.externalBrokers, pid: undefined, startedHere: false };
  }
  if (options.kafkaNodes > 1) return ensureCluster(options, `${kafkaDir}-cluster`);
  const brokers = `127.0.0.1:${options.kafkaPort}`;
  const running = runningBrokerPid(kafkaDir);
  if (running !== undefined) {
    const configured = readFileSync(join(kafkaDir, 'server.properties'), 'utf8').includes(`PLAINTEXT://127.0.0.1:${options.kafkaPort},`);
    if (!configured) fail(`a Kafka broker (pid ${running}) already runs from ${kafkaDir} on another port; stop it (npm run kafka:stop) or use another --data-dir`);
    say(`using the Kafka broker already running from ${shown(kafkaDir)} (pid ${running}); it is left running on exit`);
    return { brokers, pid: running, startedHere: false };
  }
  for (const [flag, port] of [
    ['--kafka-port', options.kafkaPort],
    ['--controller-port', options.controllerPort],
  ] as const) {
    if (!(await portIsFree(port))) {
      fail(`port ${port} is in use (another Kafka?): stop it, choose ${flag} and another --data-dir, or use it with --brokers 127.0.0.1:${port}`);
    }
  }
  brokerStartingIn = kafkaDir;
  say(`starting Kafka ${KAFKA_VERSION} on ${brokers} (data in ${shown(kafkaDir)}, log in ${shown(join(kafkaDir, 'broker.log'))})…`);
  const started = Date.now();
  const broker = await startBroker({ dataDir: kafkaDir, port: options.kafkaPort, controllerPort: options.controllerPort });
  say(`Kafka is up in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${broker.pid})`);
  return { brokers, pid: broker.pid, startedHere: true };
}

async function createTopics(brokers: string, partitions: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'chainlog-start', brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 5 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await partitionCount(admin, 'transactions');
    if (existing !== undefined && existing > partitions) {
      say(`transactions keeps its ${existing} partitions (partitions never decrease); running ${existing} miners`);
    }
    // The checkpoint topic too, compacted (docs/protocol.md §5.1), as every deployment path creates it.
    const checkpoints = checkpointTopicSpec(readCheckpointConfig(new EnvReader(process.env)).topic);
    const changes = await ensureTopics(admin, [...chainlogTopics(DEFAULT_TOPICS, { transactionsPartitions: partitions }), checkpoints]);
    say(changes.length === 0 ? 'topics already there' : changes.join('; '));
  } finally {
    await admin.disconnect();
  }
}

async function transactionsPartitions(brokers: string): Promise<number> {
  const kafka = new Kafka({ clientId: 'chainlog-start', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await partitionCount(admin, 'transactions')) ?? 0;
  } finally {
    await admin.disconnect();
  }
}

/** Inherited variables no service gets: a miner's key reaches that miner only, as a file (start-plan.ts). */
const WITHHELD_VARIABLES = ['MINER_PRIVATE_KEY', 'MINER_PRIVATE_KEY_FILE'] as const;

function serviceSpecs(options: StartOptions, brokers: string, partitions: number, keys: PlanKeys | undefined): { specs: ServiceSpec[]; ports: Record<string, number> } {
  const plan = servicePlan(options, brokers, partitions, keys);
  const base: NodeJS.ProcessEnv = { ...process.env };
  // Settings meant for this script must not leak into the services.
  for (const name of [...START_VARIABLES, ...WITHHELD_VARIABLES]) delete base[name];
  const specs = plan.map(({ name, service, env }) => ({
    name,
    command: process.execPath,
    args: options.source
      ? ['--conditions=@chainlog/source', '--import', 'tsx', `services/${service}/src/main.ts`]
      : ['--enable-source-maps', `services/${service}/dist/main.js`],
    cwd: ROOT,
    env: { ...base, ...env },
  }));
  return { specs, ports: Object.fromEntries(plan.map(({ name, port }) => [name, port])) };
}

async function status(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

/** Resolves with the services not ready by the deadline (empty when all are). */
/** Where this machine reaches the services: their bind address, or loopback when they bind every interface. */
function localHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

async function waitUntilReady(host: string, ports: Record<string, number>, timeoutMs: number, stopped: () => boolean): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let waiting = Object.keys(ports);
  while (waiting.length > 0 && Date.now() < deadline && !stopped()) {
    const results = await Promise.all(waiting.map(async (name) => [name, await status(`http://${host}:${ports[name]}/readyz`)] as const));
    waiting = results.filter(([, code]) => code !== 200).map(([name]) => name);
    if (waiting.length > 0) await new Promise((resolveWait) => setTimeout(resolveWait, 500));
  }
  return waiting;
}

function banner(ports: Record<string, number>, brokers: string, partitions: number, options: StartOptions, notReady: string[]): string {
  const miners = Object.entries(ports)
    .filter(([name]) => name.startsWith('miner-'))
    .map(([name, port]) => `${name} http://${localHost(options.host)}:${port}`)
    .join(', ');
  const cli = 'npx chainlog';
  // The CLI reads .data/chainlog.env by itself; any other data dir is named.
  const configFile = join(resolve(options.dataDir), 'chainlog.env');
  const flags = resolve(configFile) === resolve(ROOT, '.data', 'chainlog.env') && process.cwd() === ROOT ? '' : ` --config ${shown(configFile)}`;
  const mode = options.open ? paint(33, 'OPEN mode: unsigned transactions, any miner') : 'permissioned: allowed miner keys, signed transactions';
  return [
    '',
    paint(32, `Chainlog is running${notReady.length > 0 ? ` (not ready yet: ${notReady.join(', ')})` : ''}`) + ` (${mode})`,
    `  ingest    http://${localHost(options.host)}:${options.ingestPort}   POST ${INGEST_ROUTES.transactions}`,
    `  explorer  http://${localHost(options.host)}:${options.auditorPort}/   the ledger in a browser, every proof checked there`,
    `  auditor   http://${localHost(options.host)}:${options.auditorPort}   GET ${[AUDITOR_ROUTES.head, AUDITOR_ROUTES.blocks, AUDITOR_ROUTES.transaction, AUDITOR_ROUTES.account, AUDITOR_ROUTES.audit].join(', ')}`,
    `  miners    ${miners} (one per transactions partition: ${partitions})`,
    ...(options.host === '127.0.0.1' ? [] : [paint(33, `  the HTTP APIs listen on ${options.host}: reachable from the network, without authentication`)]),
    `  kafka     ${brokers}   topics transactions (${partitions} partitions), blockchain, audit, transactions-dlq`,
    '',
    `  try:  ${cli}${flags} demo`,
    `        ${cli}${flags} tx send --from alice --to bob --amount 3${options.open ? '' : '   (signed with the key in chainlog.env)'}`,
    ...(options.open
      ? [`        curl -s -H 'content-type: application/json' -d '{"from":"alice","to":"bob","amount":3}' http://${localHost(options.host)}:${options.ingestPort}${INGEST_ROUTES.transactions}`]
      : []),
    `        ${cli}${flags} chain tail -f`,
    `  logs: ${shown(join(resolve(options.dataDir), 'run', 'logs'))}/<service>.log (raw JSON)`,
    '  Ctrl-C stops everything.',
    '',
  ].join('\n');
}

/**
 * Says which mode this run is in, and warns when the data dir's chain was mined in the other one (its
 * blocks would not count: unsigned blocks on a permissioned chain, or keys nobody checks on an open one).
 */
function announceMode(dataDir: string, keys: StartKeys | undefined): void {
  const modeFile = join(dataDir, 'mode');
  const mode = keys === undefined ? 'open' : 'permissioned';
  const previous = existsSync(modeFile) ? readFileSync(modeFile, 'utf8').trim() : undefined;
  if (previous !== undefined && previous !== mode) {
    say(paint(33, `this data dir was last run ${previous}; its existing blocks may not be valid in ${mode} mode (npm start -- --fresh${mode === 'open' ? ' --open' : ''} starts over)`));
  }
  writeFileSync(modeFile, `${mode}\n`);
  if (keys === undefined) {
    say(paint(33, 'OPEN mode (--open): no miner keys, any block with enough work counts, unsigned transactions accepted'));
    return;
  }
  for (const path of keys.created) say(`generated key ${shown(path)}`);
  say(`permissioned: ${keys.miners.length} miner key(s) allowed, transactions must be signed (keys in ${shown(keys.dir)}; npm start -- --open for the article's open mode)`);
}

/**
 * <dataDir>/chainlog.env: what the CLI needs to talk to this ledger and to judge its blocks itself (the
 * services' consensus settings, the client key's path; never a private key). The CLI reads it with
 * --config, or by default from .data/chainlog.env.
 */
function writeCliConfig(dataDir: string, options: StartOptions, brokers: string, specs: ServiceSpec[], keys: StartKeys | undefined): void {
  const auditor = specs.find((spec) => spec.name === 'auditor')?.env ?? {};
  const lines = [
    '# Written by npm start for the chainlog CLI (chainlog --config FILE); regenerated on every start.',
    `CHAINLOG_INGEST_URL=http://${localHost(options.host)}:${options.ingestPort}`,
    `CHAINLOG_AUDITOR_URL=http://${localHost(options.host)}:${options.auditorPort}`,
    `CHAINLOG_BROKERS=${brokers}`,
    ...(keys === undefined ? [] : [`CHAINLOG_KEY_FILE=${keys.client.path}`]),
    ...(['DIFFICULTY', 'BLOCK_REWARD', 'ALLOWED_MINER_KEYS', 'REQUIRE_TRANSACTION_SIGNATURES', 'CONSENSUS_MAX_BLOCK_TRANSACTIONS', 'REPLAY_WINDOW_MS', 'ENFORCE_BALANCES', 'ACCOUNT_KEYS', 'GENESIS_ALLOCATIONS'] as const)
      .filter((name) => auditor[name] !== undefined && auditor[name] !== '')
      .map((name) => `${name}=${auditor[name]}`),
  ];
  writeFileSync(join(dataDir, 'chainlog.env'), `${lines.join('\n')}\n`);
}

// What this run started, for shutdown (Ctrl-C) and for clean-up after a failed start.
let broker: BrokerInUse | undefined;
let supervisor: Supervisor | undefined;
let stateFile: string | undefined;
/** Set while this run starts a broker: a Ctrl-C then must stop it although startBroker has not returned. */
let brokerStartingIn: string | undefined;
let clusterStartingIn: string | undefined;
let interrupted = false;

/** The data dir of the broker this run started: its pid file says whether that broker still is the one running. */
let brokerDir: string | undefined;

async function stopEverything(): Promise<void> {
  await supervisor?.stop();
  if (broker?.stopCluster !== undefined) {
    say('stopping the Kafka cluster…');
    await broker.stopCluster();
  } else if (broker === undefined && clusterStartingIn !== undefined) {
    say('stopping the Kafka cluster that was starting…');
    await stopClusterInDir(clusterStartingIn);
  } else if (broker?.startedHere === true && broker.pid !== undefined) {
    // A broker restarted by hand meanwhile (npm run kafka:stop / kafka:start) has its own pid in the pid
    // file: it is not this run's to stop, and its pid file must stay, or nothing could find it any more.
    const current = brokerDir === undefined ? undefined : runningBrokerPid(brokerDir);
    if (current !== undefined && current !== broker.pid) {
      say(`the broker was restarted by hand (pid ${current}); leaving it running (npm run kafka:stop stops it)`);
      await stopBrokerProcess(broker.pid);
    } else {
      say('stopping Kafka…');
      await stopBrokerProcess(broker.pid);
      if (brokerDir !== undefined) rmSync(join(brokerDir, 'broker.pid'), { force: true });
    }
  } else if (broker === undefined && brokerStartingIn !== undefined) {
    say('stopping the Kafka broker that was starting…');
    await stopBrokerInDir(brokerStartingIn);
  }
  if (stateFile !== undefined) rmSync(stateFile, { force: true });
}

async function main(): Promise<void> {
  let options: StartOptions;
  try {
    const parsed = parseStartOptions(process.argv.slice(2), process.env);
    if (parsed === 'help') {
      process.stdout.write(START_USAGE);
      return;
    }
    options = parsed;
  } catch (error) {
    if (error instanceof StartUsageError) {
      process.stderr.write(`chainlog: ${error.message}\n\n${START_USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  useColours = options.colours ?? colours;
  const dataDir = resolve(options.dataDir);
  const kafkaDir = join(dataDir, 'kafka');
  const runDir = join(dataDir, 'run');
  const statePath = join(runDir, 'state.json');
  mkdirSync(runDir, { recursive: true });
  cleanUpLeftovers(statePath);
  stateFile = statePath;

  if (options.fresh) {
    if (await stopBrokerInDir(kafkaDir)) say('stopped the broker running from the data dir');
    if (await stopClusterInDir(`${kafkaDir}-cluster`)) say('stopped the Kafka cluster running from the data dir');
    rmSync(kafkaDir, { recursive: true, force: true });
    rmSync(`${kafkaDir}-cluster`, { recursive: true, force: true });
    rmSync(join(runDir, 'logs'), { recursive: true, force: true });
    // The auditor would find its index off the new chain and rebuild it anyway; this saves it the check.
    rmSync(join(dataDir, 'auditor'), { recursive: true, force: true });
    say(`--fresh: deleted ${shown(kafkaDir)} and the auditor's index; every topic starts empty`);
  }

  // Signals during start-up stop what was started so far.
  let stopping = false;
  let firstSignalAt = 0;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      if (Date.now() - firstSignalAt > 1000) {
        say(`${signal} again: killing the services now`);
        supervisor?.killAll();
      }
      return;
    }
    stopping = true;
    interrupted = true;
    firstSignalAt = Date.now();
    process.stdout.write('\n');
    say(`${signal}: stopping the services…`);
    try {
      await stopEverything();
      say(`stopped${broker?.startedHere === false && options.externalBrokers === undefined ? ' (the broker that was already running is left running)' : ''}; data kept in ${shown(dataDir)} (npm start -- --fresh starts over)`);
      process.exit(0);
    } catch (error) {
      process.stderr.write(`chainlog: shutdown failed: ${(error as Error).message}\n`);
      supervisor?.killAll();
      process.exit(1);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, (received) => void shutdown(received));
  // npm forwards SIGINT/SIGTERM to its script (which execs this process); should the launcher die without
  // a signal reaching this process (kill -9 of npm, a closed terminal), this process is re-parented:
  // stop everything then as well, instead of running on unowned.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid !== parent) void shutdown('SIGHUP');
  }, 1000);
  parentWatch.unref();
  // If this process dies for any other reason, its services must not outlive it.
  process.on('exit', () => supervisor?.killAll());

  await build(options);
  if (stopping) return;
  brokerDir = kafkaDir;
  broker = await ensureBroker(options, kafkaDir);
  if (stopping) return;
  await createTopics(broker.brokers, options.partitions);
  const partitions = Math.max(options.partitions, await transactionsPartitions(broker.brokers));
  const keys = options.open ? undefined : ensureStartKeys(dataDir, partitions);
  announceMode(dataDir, keys);
  const planKeys =
    keys === undefined
      ? undefined
      : { minerKeyFiles: keys.miners.map(({ path }) => path), allowedMinerKeys: keys.miners.map(({ publicKey }) => publicKey), clientPublicKey: keys.client.publicKey };
  const { specs, ports } = serviceSpecs(options, broker.brokers, partitions, planKeys);
  writeCliConfig(dataDir, options, broker.brokers, specs, keys);
  for (const [name, port] of Object.entries(ports)) {
    if (!(await portIsFree(port))) fail(`port ${port} for ${name} is in use; choose another with the --*-port options (npm start -- --help)`);
  }

  const state: RunState = {
    supervisorPid: process.pid,
    brokerPid: broker.pid,
    brokerStartedHere: broker.startedHere,
    brokers: broker.brokers,
    children: {},
    ports,
  };
  const saveState = (): void => {
    state.children = supervisor?.pids() ?? {};
    writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);
  };
  supervisor = new Supervisor(specs, {
    write: (line) => process.stdout.write(`${line}\n`),
    colours: useColours,
    logDir: join(runDir, 'logs'),
    // The services' own shutdown grace is 25 s (core's onShutdownSignal); a miner leaving its group can take most of it.
    graceMs: 30_000,
    onChange: saveState,
  });
  say(`starting ${specs.map((spec) => spec.name).join(', ')}${options.source ? ' from the TypeScript sources' : ''}…`);
  supervisor.start();
  saveState();

  const notReady = await waitUntilReady(localHost(options.host), ports, options.readyTimeoutMs, () => stopping);
  if (stopping) return;
  process.stdout.write(`${banner(ports, broker.brokers, partitions, options, notReady)}\n`);
}

main().catch(async (error: unknown) => {
  // A Ctrl-C during start-up makes the step in progress fail; the signal handler is already stopping everything.
  if (interrupted) return;
  process.stderr.write(`${paint(31, 'chainlog:')} ${error instanceof StartError ? error.message : ((error as Error).stack ?? String(error))}\n`);
  try {
    await stopEverything();
  } finally {
    process.exit(1);
  }
});
