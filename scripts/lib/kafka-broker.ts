// A real single-node Apache Kafka broker (KRaft, combined broker + controller) run from the
// broker jars that Maven fetches from Maven Central: no Docker needed for development and tests.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const execFileAsync = promisify(execFile);

/** The newest Kafka that Maven Central serves; 3.9.x (the last 3.x line) stays supported and tested. */
export const DEFAULT_KAFKA_VERSION = '4.4.0';
/** Releases the Kafka-dependent tests were run against (README, "Kafka versions"); the default is always one of them. */
export const TESTED_KAFKA_VERSIONS = ['4.4.0', '4.0.2', '3.9.1'] as const;
// Derived, so the message names the actual default and never a stale one.
export const SUPPORTED_KAFKA_VERSIONS = `Kafka 4.x (default ${DEFAULT_KAFKA_VERSION}) and 3.9.x, the last 3.x line; tested: ${TESTED_KAFKA_VERSIONS.join(', ')}`;

/** CHAINLOG_KAFKA_VERSION, validated: a release number of a supported line (3.9.x or 4.x). */
export function kafkaVersionFrom(raw: string | undefined): string {
  const version = raw === undefined || raw.trim() === '' ? DEFAULT_KAFKA_VERSION : raw.trim();
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new Error(`CHAINLOG_KAFKA_VERSION must be a Kafka release such as ${DEFAULT_KAFKA_VERSION} or 3.9.1, got "${version}"`);
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major < 3 || (major === 3 && minor < 9)) {
    throw new Error(`CHAINLOG_KAFKA_VERSION ${version} is not supported: ${SUPPORTED_KAFKA_VERSIONS}`);
  }
  return version;
}

export const KAFKA_VERSION = kafkaVersionFrom(process.env.CHAINLOG_KAFKA_VERSION);

/**
 * Kafka 4.x logs through log4j2 (its distribution ships log4j-core and the slf4j 1.x binding and reads
 * config/log4j2.yaml); 3.x logs through reload4j with a log4j 1 properties file. Each gets its own.
 */
function usesLog4j2(version = KAFKA_VERSION): boolean {
  return Number(version.split('.')[0]) >= 4;
}
// The log4j2 release the 4.4.0 broker itself depends on; pinned so every 4.x gets the same backend.
const LOG4J2_VERSION = '2.25.5';
const LOGGING_BACKEND = usesLog4j2()
  ? ['org.apache.logging.log4j:log4j-api', 'org.apache.logging.log4j:log4j-core', 'org.apache.logging.log4j:log4j-slf4j-impl'].map((name) => `${name}:${LOG4J2_VERSION}`)
  : ['org.slf4j:slf4j-reload4j:1.7.36'];
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

export interface BrokerOptions {
  /** Where the KRaft log and the broker's own log go. */
  dataDir: string;
  port: number;
  controllerPort: number;
  /** Extra server.properties lines (e.g. listeners for TLS or SASL tests). */
  extraProperties?: Record<string, string>;
  /**
   * Extra arguments of `kafka-storage format`, e.g. `['--add-scram', 'SCRAM-SHA-512=[name=u,password=p]']` to
   * create SCRAM credentials in KRaft. They apply when the data dir is formatted (the first start only).
   */
  formatArguments?: string[];
  heapMb?: number;
  /** In a cluster (kafka-cluster.ts): this node's id, every voter and the shared cluster id. */
  node?: { id: number; quorumVoters: string; clusterId: string; clusterSize: number };
  /** How long to wait for the broker to answer (default 90 s; a cluster's nodes need each other first). */
  startTimeoutMs?: number;
}

export interface RunningBroker {
  brokers: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

export function cacheDir(): string {
  return process.env.CHAINLOG_CACHE ?? join(homedir(), '.cache', 'chainlog');
}

function libsDir(): string {
  return join(cacheDir(), 'kafka', KAFKA_VERSION, 'libs');
}

/** Fails with one clear line when a prerequisite is missing. */
function requireCommand(command: string, args: string[], why: string): void {
  const probe = spawnSync(command, args, { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${command} is required ${why} but was not found on PATH`);
  }
}

/** Downloads the broker jars into the cache with Maven, once. */
export async function ensureBrokerJars(): Promise<string> {
  const libs = libsDir();
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;
  requireCommand('java', ['-version'], 'to run the Kafka broker (install Java 17)');
  requireCommand('mvn', ['-v'], 'to fetch the Kafka broker jars from Maven Central (install Maven)');
  const work = join(cacheDir(), 'kafka', KAFKA_VERSION);
  mkdirSync(work, { recursive: true });
  const pom = join(work, 'pom.xml');
  writeFileSync(pom, brokerPom());
  rmSync(libs, { recursive: true, force: true });
  try {
    await execFileAsync(
      'mvn',
      ['-B', '-q', '-f', pom, `${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${libs}`],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    // Maven prints its reasons as [ERROR] lines on stdout; the error's message has only the command.
    const stdout = String((error as { stdout?: unknown }).stdout ?? '');
    const reason = stripVTControlCharacters(stdout).split('\n').find((line) => line.includes('[ERROR]'))?.replace('[ERROR] ', '').trim();
    throw new Error(`mvn could not fetch the Kafka ${KAFKA_VERSION} broker jars from Maven Central: ${reason ?? (error as Error).message}`);
  }
  writeFileSync(marker, `${KAFKA_VERSION}\n`);
  return libs;
}

function brokerPom(): string {
  const logging = LOGGING_BACKEND.map((coordinates) => {
    const [group, artifact, version] = coordinates.split(':');
    return `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency>`;
  }).join('\n');
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.chainlog</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
${logging}
  </dependencies>
</project>
`;
}

/**
 * Replication of Kafka's internal topics and the default for topics created with the broker default: three
 * copies, two of which must acknowledge (acks=all), once there are three nodes; one copy on a single node.
 */
export function replicationDefaults(clusterSize: number): Record<string, string> {
  const replicas = String(Math.min(3, clusterSize));
  const minInsync = clusterSize >= 3 ? '2' : '1';
  return {
    'default.replication.factor': replicas,
    'min.insync.replicas': minInsync,
    'offsets.topic.replication.factor': replicas,
    'transaction.state.log.replication.factor': replicas,
    'transaction.state.log.min.isr': minInsync,
  };
}

function serverProperties(options: BrokerOptions): string {
  const nodeId = options.node?.id ?? 1;
  const properties: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(nodeId),
    'controller.quorum.voters': options.node?.quorumVoters ?? `${nodeId}@127.0.0.1:${options.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${options.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(options.dataDir, 'log'),
    'num.partitions': '1',
    'offsets.topic.num.partitions': '1',
    ...replicationDefaults(options.node?.clusterSize ?? 1),
    'group.initial.rebalance.delay.ms': '0',
    // The log cleaner allocates its whole dedupe buffer (128 MiB by default) on the heap at start-up: in a
    // 256 MiB test broker that failed start-ups with a heap OutOfMemoryError. An eighth of the heap suffices here.
    'log.cleaner.dedupe.buffer.size': String(Math.min(128, Math.floor((options.heapMb ?? 512) / 8)) * 1024 * 1024),
    // Chainlog creates its topics explicitly; a typo in a topic name must not silently create one.
    'auto.create.topics.enable': 'false',
    ...options.extraProperties,
  };
  return Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
}

// Broker logs go to stderr (redirected into broker.log): warnings, plus Kafka's own INFO lines, which
// include the KRaft quorum transitions that activeController() reads.
const LOG4J_PROPERTIES = `log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
`;

const LOG4J2_PROPERTIES = `status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
`;

function loggingConfig(dataDir: string): { file: string; text: string; property: string } {
  return usesLog4j2()
    ? { file: join(dataDir, 'log4j2.properties'), text: LOG4J2_PROPERTIES, property: 'log4j2.configurationFile' }
    : { file: join(dataDir, 'log4j.properties'), text: LOG4J_PROPERTIES, property: 'log4j.configuration' };
}

function javaArgs(libs: string, dataDir: string, heapMb: number): string[] {
  return [
    '-cp',
    `${libs}/*`,
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(heapMb, 256)}m`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-D${loggingConfig(dataDir).property}=file:${loggingConfig(dataDir).file}`,
  ];
}

/**
 * A KRaft cluster id as `kafka-storage random-uuid` makes one: a random (version 4) UUID in URL-safe base64
 * without padding, never starting with "-" (Kafka rejects those on the command line). Made here rather than
 * by starting a JVM for it: on a loaded machine that JVM alone took seconds of every first broker start.
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomUUID().replaceAll('-', '');
    const encoded = Buffer.from(id, 'hex').toString('base64url');
    if (!encoded.startsWith('-')) return encoded;
  }
}

/** The KRaft cluster id kept in a data dir (made once, so every restart and every node formats alike). */
export function clusterIdIn(dataDir: string): string {
  const clusterIdFile = join(dataDir, 'cluster.id');
  if (!existsSync(clusterIdFile)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(clusterIdFile, randomClusterId());
  }
  return readFileSync(clusterIdFile, 'utf8').trim();
}

/** Formats KRaft storage (once per data dir) and starts the broker, resolving when it answers metadata requests. */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const libs = await ensureBrokerJars();
  mkdirSync(options.dataDir, { recursive: true });
  const propertiesFile = join(options.dataDir, 'server.properties');
  writeFileSync(propertiesFile, serverProperties(options));
  const logging = loggingConfig(options.dataDir);
  writeFileSync(logging.file, logging.text);
  const java = javaArgs(libs, options.dataDir, options.heapMb ?? 512);

  const clusterId = options.node?.clusterId ?? clusterIdIn(options.dataDir);
  await execFileAsync('java', [
    ...java,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    propertiesFile,
    '--ignore-formatted',
    ...(options.formatArguments ?? []),
  ]);

  const logFile = join(options.dataDir, 'broker.log');
  const out = openSync(logFile, 'a');
  const child = spawn('java', [...java, 'kafka.Kafka', propertiesFile], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the Kafka broker process');
  writeFileSync(join(options.dataDir, 'broker.pid'), `${pid}\n`);

  const brokers = `127.0.0.1:${options.port}`;
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    await waitUntilAnswering(brokers, options.startTimeoutMs ?? 90_000, () => exited);
  } catch (error) {
    await stopBrokerProcess(pid);
    throw new Error(`${(error as Error).message}; broker log: ${logFile}\n${tail(logFile, 20)}`);
  }
  return { brokers, pid, dataDir: options.dataDir, stop: () => stopBrokerProcess(pid) };
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Polls with a real metadata request until the broker answers, or fails at the deadline. */
export async function waitUntilAnswering(brokers: string, timeoutMs: number, gaveUp: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({
    brokers: brokers.split(','),
    clientId: 'chainlog-broker-probe',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  for (;;) {
    if (gaveUp()) throw new Error('the Kafka broker exited during start-up');
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the Kafka broker at ${brokers} did not answer within ${timeoutMs} ms: ${(error as Error).message}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM for a controlled shutdown, SIGKILL if it has not exited after the grace period. */
export async function stopBrokerProcess(pid: number, graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Stops the broker recorded in a data dir's pid file; a no-op when none runs. */
export async function stopBrokerInDir(dataDir: string): Promise<boolean> {
  const pidFile = join(dataDir, 'broker.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const wasRunning = Number.isInteger(pid) && pid > 0 && isAlive(pid);
  if (wasRunning) await stopBrokerProcess(pid);
  rmSync(pidFile, { force: true });
  return wasRunning;
}

export function runningBrokerPid(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'broker.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}
