// The chaos suite's machinery (test/chaos, docs/reliability.md): a Kafka broker of its own that can be
// restarted on the same data dir and ports, a Chainlog stack of separate processes (ingest, miners, auditor),
// an independent reader of the blockchain topic (the protocol's Chain, fed by a consumer of our own), a load
// generator that records what ingest answered for every transaction id, and the ledger invariants.
import { createHash, randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { ensureTopics } from '@chainlog/core/kafka';
import { type Block, Chain, type ConsensusParams, type RejectionReason, type Signer, signerFromSeed, signTransaction } from '@chainlog/core/protocol';
import { startBroker, stopBrokerProcess, type RunningBroker } from '../../scripts/lib/kafka-broker.js';
import { allocatePort } from '../../scripts/lib/ports.js';
import { getJson, REPO_ROOT, SOURCE_NODE_ARGS, ServiceProcess, waitForHttp } from './processes.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function chaosSeed(): number {
  const given = process.env.CHAOS_SEED;
  return given !== undefined && /^\d+$/.test(given) ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** SCRAM credentials of a Kafka with SASL (Compose's and the cluster's bundled Kafka). */
export interface ScramLogin {
  username: string;
  password: string;
}

export function kafkaClient(brokers: string, clientId = 'chainlog-chaos', login?: ScramLogin): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    ...(login !== undefined ? { sasl: { mechanism: 'scram-sha-512' as const, ...login } } : {}),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 3000 },
  });
}

// ---------------------------------------------------------------------------------------------------
// A broker of our own: restartable on the same data dir and ports.

export class ChaosBroker {
  #broker: RunningBroker | undefined;
  readonly restarts: { kind: NodeJS.Signals; downMs: number }[] = [];

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly controllerPort: number,
    readonly extraProperties: Record<string, string> | undefined,
  ) {}

  static async start(options: { extraProperties?: Record<string, string>; port?: number } = {}): Promise<ChaosBroker> {
    const dataDir = mkdtempSync(join(tmpdir(), 'chainlog-chaos-kafka-'));
    const broker = new ChaosBroker(dataDir, options.port ?? (await allocatePort()), await allocatePort(), options.extraProperties);
    await broker.#start();
    return broker;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#broker?.pid;
  }

  async #start(): Promise<void> {
    this.#broker = await startBroker({
      dataDir: this.dataDir,
      port: this.port,
      controllerPort: this.controllerPort,
      heapMb: 384,
      ...(this.extraProperties ? { extraProperties: this.extraProperties } : {}),
    });
  }

  /** Stops the broker (SIGTERM: controlled shutdown; SIGKILL: a crash), waits `downMs`, starts it again. */
  async restart(kind: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', downMs = 1000): Promise<number> {
    const started = Date.now();
    const pid = this.#broker?.pid;
    if (pid !== undefined) {
      if (kind === 'SIGKILL') {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await stopBrokerProcess(pid);
    }
    await sleep(downMs);
    await this.#start();
    const outage = Date.now() - started;
    this.restarts.push({ kind, downMs: outage });
    return outage;
  }

  async stop(): Promise<void> {
    await this.#broker?.stop();
    this.#broker = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Keys and consensus. Permissioned stacks use the auditor tests' miner keys (services/auditor/test/support/
// chain-builder.ts), so the forgeries of services/auditor/test/support/forgeries.ts are signed by a key the
// chain allows and each one breaks exactly the rule it is named after.

export const seedOf = (label: string): Buffer => createHash('sha256').update(label).digest();
export const MINER_SEEDS = ['chainlog auditor test miner A', 'chainlog auditor test miner B'].map(seedOf);
export const MINER_SIGNERS: Signer[] = MINER_SEEDS.map((seed) => signerFromSeed(seed));

export interface StackTopics {
  TOPIC_TRANSACTIONS: string;
  TOPIC_BLOCKCHAIN: string;
  TOPIC_AUDIT: string;
  TOPIC_DEAD_LETTER: string;
}

export function stackTopics(prefix: string): StackTopics {
  return {
    TOPIC_TRANSACTIONS: unique(`${prefix}-tx`),
    TOPIC_BLOCKCHAIN: unique(`${prefix}-chain`),
    TOPIC_AUDIT: unique(`${prefix}-audit`),
    TOPIC_DEAD_LETTER: unique(`${prefix}-dlq`),
  };
}

export async function createStackTopics(brokers: string, topics: StackTopics, partitions: number): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [
      { topic: topics.TOPIC_TRANSACTIONS, partitions },
      { topic: topics.TOPIC_BLOCKCHAIN, partitions: 1 },
      { topic: topics.TOPIC_AUDIT, partitions: 1 },
      { topic: topics.TOPIC_DEAD_LETTER, partitions: 1 },
    ]);
  } finally {
    await admin.disconnect();
  }
}

export interface StackOptions {
  brokers: string;
  prefix: string;
  partitions: number;
  miners: number;
  difficulty: number;
  blockReward?: number;
  /** ALLOWED_MINER_KEYS = the two test miner keys; miner i signs with key i % 2. */
  permissioned?: boolean;
  /** REQUIRE_TRANSACTION_SIGNATURES on the miners and the auditor (and in `consensus`). */
  requireTransactionSignatures?: boolean;
  /** Restart services that exit on their own (as Kubernetes would), counting it. */
  supervise?: boolean;
  /** Extra environment for every service / for one kind. */
  env?: Record<string, string>;
  minerEnv?: Record<string, string>;
  ingestEnv?: Record<string, string>;
  auditorEnv?: Record<string, string>;
}

/** Ingest, N miners and the auditor as separate processes on unique topics of one broker. */
export class Stack {
  readonly topics: StackTopics;
  readonly consensusEnv: Record<string, string>;
  readonly consensus: ConsensusParams;
  ingest!: ServiceProcess;
  auditor!: ServiceProcess;
  miners: ServiceProcess[] = [];
  readonly ports: { ingest: number; auditor: number; miners: number[] } = { ingest: 0, auditor: 0, miners: [] };

  constructor(readonly options: StackOptions) {
    this.topics = stackTopics(options.prefix);
    const reward = options.blockReward ?? 50;
    this.consensusEnv = {
      DIFFICULTY: String(options.difficulty),
      BLOCK_REWARD: String(reward),
      ...(options.permissioned ? { ALLOWED_MINER_KEYS: MINER_SIGNERS.map((signer) => signer.publicKey).join(',') } : {}),
      ...(options.requireTransactionSignatures ? { REQUIRE_TRANSACTION_SIGNATURES: 'true' } : {}),
    };
    this.consensus = {
      minDifficulty: options.difficulty,
      blockReward: reward,
      ...(options.permissioned ? { allowedMiners: MINER_SIGNERS.map((signer) => signer.publicKey) } : {}),
      ...(options.requireTransactionSignatures ? { requireTransactionSignatures: true } : {}),
    };
  }

  get ingestUrl(): string {
    return `http://127.0.0.1:${this.ports.ingest}`;
  }

  get auditorUrl(): string {
    return `http://127.0.0.1:${this.ports.auditor}`;
  }

  minerUrl(i: number): string {
    return `http://127.0.0.1:${this.ports.miners[i]}`;
  }

  get processes(): ServiceProcess[] {
    return [this.ingest, ...this.miners, this.auditor];
  }

  /** Creates the topics, starts every process and waits until each is ready. */
  async start(): Promise<void> {
    const { options } = this;
    await createStackTopics(options.brokers, this.topics, options.partitions);
    this.ports.ingest = await allocatePort();
    this.ports.auditor = await allocatePort();
    for (let i = 0; i < options.miners; i++) this.ports.miners.push(await allocatePort());
    const common = { KAFKA_BROKERS: options.brokers, ...this.topics, ...this.consensusEnv, ...options.env };
    const processOptions = { supervise: options.supervise ?? true, restartDelayMs: 1000 };
    this.auditor = new ServiceProcess('auditor', 'auditor', { ...common, HTTP_PORT: String(this.ports.auditor), ...options.auditorEnv }, processOptions);
    const group = unique(`${options.prefix}-miners`);
    this.miners = Array.from(
      { length: options.miners },
      (_, i) =>
        new ServiceProcess(
          `miner-${i}`,
          'miner',
          {
            ...common,
            HTTP_PORT: String(this.ports.miners[i]),
            MINER_GROUP_ID: group,
            MINER_ORDINAL: String(i),
            MINER_REPLICAS: String(options.miners),
            MINER_ID: `chaos-miner-${i}`,
            HOSTNAME: `chaos-miner-${i}`,
            MINER_SESSION_TIMEOUT_MS: '6000',
            CUT_AT_PENDING_TRANSACTIONS: '10',
            MAX_BLOCK_WAIT_MS: '300',
            ...(options.permissioned ? { MINER_PRIVATE_KEY: (MINER_SEEDS[i % 2] as Buffer).toString('hex') } : {}),
            ...options.minerEnv,
          },
          processOptions,
        ),
    );
    this.ingest = new ServiceProcess(
      'ingest',
      'ingest',
      // The miners' group: with a replay window ingest reads their committed offsets (503 mining-backlog).
      { ...common, HTTP_PORT: String(this.ports.ingest), AUDITOR_PUBLIC_URL: this.auditorUrl, MINER_GROUP_ID: group, ...options.ingestEnv },
      processOptions,
    );
    // All at once: miners that find the topic empty may each publish genesis; readers keep the first and
    // reject the others as stale (docs/protocol.md §3.8).
    for (const miner of this.miners) miner.start();
    this.auditor.start();
    this.ingest.start();
    await Promise.all([
      waitForHttp(`${this.ingestUrl}/readyz`, { process: this.ingest }),
      waitForHttp(`${this.auditorUrl}/readyz`, { process: this.auditor }),
      ...this.miners.map((miner, i) => waitForHttp(`${this.minerUrl(i)}/readyz`, { process: miner })),
    ]);
  }

  /** Total unplanned exits (crashes, fatal errors) of every process. */
  unexpectedExits(): Record<string, number> {
    return Object.fromEntries(this.processes.map((p) => [p.name, p.unexpectedExits]));
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.processes.filter(Boolean).map((p) => p.dispose()));
  }
}

// ---------------------------------------------------------------------------------------------------
// An independent reader of the ledger: our own consumer, our own Chain.

export interface TrackedMessage {
  offset: number;
  /** SHA-256 of the message bytes: how injected messages are found again. */
  digest: string;
  accepted: boolean;
  reason?: RejectionReason;
  detail?: string;
  claimedIndex?: number;
  hash?: string;
  /** The canonical height just before this message was applied. */
  heightBefore: number;
}

export const digestOf = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export class ChainTracker {
  readonly chain: Chain;
  readonly blocks: Block[] = [];
  readonly messages: TrackedMessage[] = [];
  #next = 0;
  #consumer: Consumer | undefined;
  #listeners = new Set<() => void>();
  #stopped = false;
  /** Consumers that crashed for good and were replaced (a broker in trouble). */
  restarts = 0;

  constructor(
    readonly brokers: string,
    readonly topic: string,
    consensus: ConsensusParams,
    readonly login?: ScramLogin,
  ) {
    this.chain = new Chain(consensus);
  }

  static async follow(brokers: string, topic: string, consensus: ConsensusParams, login?: ScramLogin): Promise<ChainTracker> {
    const tracker = new ChainTracker(brokers, topic, consensus, login);
    await tracker.start();
    return tracker;
  }

  async start(): Promise<void> {
    const consumer = kafkaClient(this.brokers, 'chainlog-chaos-tracker', this.login).consumer({
      groupId: unique('chaos-tracker'),
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 8 * 1024 * 1024,
    });
    this.#consumer = consumer;
    // A consumer that gives up (e.g. the broker fenced under CPU starvation) is replaced by a new one: the
    // reader must outlive what it observes.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.#stopped || this.#consumer !== consumer) return;
      this.restarts += 1;
      void consumer.disconnect().catch(() => undefined);
      setTimeout(() => void this.#restart(), 1000);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const offset = Number(message.offset);
        // A consumer restart (broker outage) starts over from offset 0: apply each offset once.
        if (offset < this.#next) return;
        this.#apply(offset, message.value ?? new Uint8Array(0));
        this.#next = offset + 1;
        for (const listener of this.#listeners) listener();
      },
    });
  }

  async #restart(): Promise<void> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        await this.start();
        return;
      } catch {
        await sleep(Math.min(5000, 500 * (attempt + 1)));
      }
    }
  }

  #apply(offset: number, bytes: Uint8Array): void {
    const heightBefore = this.chain.height;
    const result = this.chain.apply(bytes);
    const digest = digestOf(bytes);
    if (result.accepted) {
      this.blocks.push(result.block);
      this.messages.push({ offset, digest, accepted: true, hash: result.block.hash, claimedIndex: result.block.index, heightBefore });
    } else {
      this.messages.push({
        offset,
        digest,
        accepted: false,
        heightBefore,
        reason: result.reason,
        detail: result.detail,
        ...(result.claimedIndex === undefined ? {} : { claimedIndex: result.claimedIndex }),
      });
    }
  }

  get nextOffset(): number {
    return this.#next;
  }

  get height(): number {
    return this.chain.height;
  }

  get tip(): Block {
    const tip = this.chain.tipBlock;
    if (tip === undefined) throw new Error('the chain is empty');
    return tip;
  }

  async endOffset(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const admin = kafkaClient(this.brokers, undefined, this.login).admin();
      try {
        await admin.connect();
        const [partition] = await admin.fetchTopicOffsets(this.topic);
        return Number(partition?.high ?? 0);
      } catch (error) {
        // Leadership moving (or a fenced broker coming back) is retried a while before it counts.
        if (attempt >= 15) throw error;
        await sleep(1000);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
  }

  /** Resolves once every message up to the topic's end (as of now) is applied. */
  async catchUp(timeoutMs = 60_000): Promise<void> {
    const end = await this.endOffset();
    await this.until(() => this.#next >= end, timeoutMs, `catch up with ${this.topic} to offset ${end}`);
  }

  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`tracker: no ${what} within ${timeoutMs} ms (next offset ${this.#next})`));
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  /** The first message at or after `fromOffset` with these bytes. */
  async waitForBytes(bytes: Uint8Array, fromOffset: number, timeoutMs = 120_000): Promise<TrackedMessage> {
    const digest = digestOf(bytes);
    const find = (): TrackedMessage | undefined => this.messages.find((m) => m.offset >= fromOffset && m.digest === digest);
    await this.until(() => find() !== undefined, timeoutMs, `message ${digest.slice(0, 12)}`);
    return find() as TrackedMessage;
  }

  rejections(): TrackedMessage[] {
    return this.messages.filter((m) => !m.accepted);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#consumer?.disconnect().catch(() => undefined);
    this.#listeners.clear();
  }
}

/** The whole chain as it stands now, rebuilt by a fresh tracker. */
export async function rebuildChain(brokers: string, topic: string, consensus: ConsensusParams): Promise<ChainTracker> {
  const tracker = await ChainTracker.follow(brokers, topic, consensus);
  try {
    await tracker.catchUp(120_000);
  } finally {
    await tracker.stop();
  }
  return tracker;
}

// ---------------------------------------------------------------------------------------------------
// Producing raw bytes (the hostile writer): kcat as in the article when installed, else kafkajs.

let kcat: boolean | undefined;
export function kcatAvailable(): boolean {
  kcat ??= spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;
  return kcat;
}

/**
 * Produces each value as one message to the partition, in order. With kcat, each value is written to a file
 * and `kcat -P -p <partition> file...` sends one message per file (so any byte, newlines included, survives).
 * Null values (tombstones) always go through kafkajs.
 */
export async function produceRaw(brokers: string, topic: string, partition: number, values: (Buffer | null)[], useKcat = kcatAvailable()): Promise<'kcat' | 'kafkajs'> {
  if (values.length === 0) return useKcat ? 'kcat' : 'kafkajs';
  if (useKcat && values.every((value) => value !== null && value.length > 0)) {
    const dir = mkdtempSync(join(tmpdir(), 'chainlog-chaos-kcat-'));
    try {
      const files = values.map((value, i) => {
        const file = join(dir, `m${i}`);
        writeFileSync(file, value as Buffer);
        return file;
      });
      const result = await run('kcat', ['-P', '-b', brokers, '-t', topic, '-p', String(partition), '-X', 'enable.idempotence=true', '-X', 'message.max.bytes=2000000', ...files], 60_000);
      if (result.code !== 0) throw new Error(`kcat -P failed (${result.code}): ${result.stderr}`);
      return 'kcat';
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const producer = kafkaClient(brokers).producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition, value })) });
  } finally {
    await producer.disconnect();
  }
  return 'kafkajs';
}

export function run(command: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.slice(0, 4).join(' ')} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Reads every message of every partition of a topic up to its end offsets (as of the call). */
export async function readAll(brokers: string, topic: string, timeoutMs = 60_000): Promise<{ partition: number; offset: number; value: Buffer | null; headers: Record<string, string> }[]> {
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, Number(high)]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, end]) => end > 0).map(([partition]) => partition));
  const out: { partition: number; offset: number; value: Buffer | null; headers: Record<string, string> }[] = [];
  if (pending.size === 0) return out;
  const consumer = kafka.consumer({ groupId: unique('chaos-read'), maxWaitTimeInMs: 100, maxBytesPerPartition: 8 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} took longer than ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const offset = Number(message.offset);
            const end = ends.get(partition) ?? 0;
            if (offset >= end || out.some((m) => m.partition === partition && m.offset === offset)) return;
            const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : String(v)]));
            out.push({ partition, offset, value: message.value, headers });
            if (offset === end - 1) pending.delete(partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** `chainlog chain verify --topic` (from source) with --json: the third reader of the chain. */
export async function verifyTopic(brokers: string, topic: string, stack: Stack): Promise<{ code: number | null; report: VerifyReportJson }> {
  const args = [...SOURCE_NODE_ARGS, 'services/cli/src/main.ts', 'chain', 'verify', '--topic', topic, '--brokers', brokers, '--json', '--timeout', '120s'];
  // Generous Kafka timeouts: on a starved machine a metadata request can take longer than the 10 s default.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    KAFKA_CONNECTION_TIMEOUT_MS: '10000',
    KAFKA_REQUEST_TIMEOUT_MS: '30000',
    // Blocks claim ranges of the stack's own transactions topic (source coverage): verify must read that one.
    TOPIC_TRANSACTIONS: stack.topics.TOPIC_TRANSACTIONS,
    ...stack.consensusEnv,
  };
  let result = await run(process.execPath, args, 180_000, env);
  if (result.code === 2) result = await run(process.execPath, args, 180_000, env);
  if (result.code === 2) throw new Error(`chainlog chain verify could not run (twice):\n${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as VerifyReportJson };
}

export interface VerifyReportJson {
  ok: boolean;
  messages: number;
  accepted: number;
  rejected: number;
  height: number;
  headHash: string | null;
  transactionCount: number;
  rejections: { position: number; reason: string }[];
}

// ---------------------------------------------------------------------------------------------------
// The load generator: uniquely identified transactions through ingest, every answer recorded.

export type Outcome = 'acked' | 'refused' | 'unknown';

export interface LoadRecord {
  /** Final classification: acked if any attempt got 202; refused on a 4xx; unknown when only 503s/errors. */
  outcome: Outcome;
  attempts: number[];
}

export class Outcomes {
  readonly byId = new Map<string, LoadRecord>();
  /** Status codes of every response (503 under an outage included). */
  readonly statuses = new Map<number | 'error', number>();
  requests = 0;

  note(status: number | 'error'): void {
    this.requests += 1;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  record(id: string, status: number | 'error'): void {
    const record = this.byId.get(id) ?? { outcome: 'unknown', attempts: [] };
    record.attempts.push(status === 'error' ? 0 : status);
    if (status === 202) record.outcome = 'acked';
    else if (typeof status === 'number' && status >= 400 && status < 500 && record.outcome !== 'acked') record.outcome = 'refused';
    this.byId.set(id, record);
  }

  ids(outcome: Outcome): string[] {
    return [...this.byId].filter(([, r]) => r.outcome === outcome).map(([id]) => id);
  }

  count(outcome: Outcome): number {
    let n = 0;
    for (const record of this.byId.values()) if (record.outcome === outcome) n++;
    return n;
  }
}

export interface LoadOptions {
  ingestUrl: string;
  outcomes: Outcomes;
  /** Transactions to send (each has a unique id). */
  count: number;
  /** Stop sending new ones after this long. */
  durationMs: number;
  concurrency: number;
  idPrefix: string;
  random: () => number;
  /** Share of requests that are deliberately invalid (must be refused with a 4xx and never committed). */
  invalidShare?: number;
  /** Share of requests that are batches of 2..5. */
  batchShare?: number;
  /** How often an unknown (503 / connection error) transaction is retried with the same id. */
  retries?: number;
  accounts?: number;
  /**
   * The senders, instead of `accounts` generated names: a ledger with its rules on (ENFORCE_BALANCES) accepts only
   * funded accounts bound to `signer` (e.g. the sample accounts of npm start and Docker Compose).
   */
  senders?: readonly string[];
  /** Requests per second over all workers (unpaced when absent): spreads the load over durationMs. */
  ratePerSecond?: number;
  /** Called after every response (the fault injector can pace itself on progress). */
  onProgress?: (sent: number) => void;
  /** Ends the load early (before count or durationMs), e.g. a set time after the last fault. */
  stop?: AbortSignal;
  /** Signs every transaction (a deployment that requires signed transactions); unsigned when absent. */
  signer?: Signer;
}

interface Tx {
  id: string;
  from: string;
  to: string;
  amount: number;
  timestamp?: number;
  publicKey?: string;
  signature?: string;
}

async function post(url: string, body: unknown): Promise<{ status: number | 'error'; json: unknown }> {
  try {
    const response = await fetch(`${url}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  } catch {
    return { status: 'error', json: undefined };
  }
}

/** Sends the load; resolves with the number of transactions sent once every request has an answer. */
export async function generateLoad(options: LoadOptions): Promise<number> {
  const { random, outcomes } = options;
  const accounts = options.accounts ?? 16;
  const begin = Date.now();
  const deadline = begin + options.durationMs;
  let next = 0;
  let issued = 0;
  const account = (): string => `acct-${Math.floor(random() * accounts)}`;
  const sender = (): string => (options.senders === undefined ? account() : (options.senders[Math.floor(random() * options.senders.length)] as string));
  const transaction = (): Tx => {
    const from = sender();
    let to = account();
    if (to === from) to = 'shop';
    const tx: Tx = { id: `${options.idPrefix}-${next++}`, from, to, amount: 1 + Math.floor(random() * 100) };
    return options.signer === undefined ? tx : signTransaction({ ...tx, timestamp: Date.now() }, options.signer);
  };
  const worker = async (): Promise<void> => {
    while (next < options.count && Date.now() < deadline && options.stop?.aborted !== true) {
      if (options.ratePerSecond !== undefined) {
        const due = begin + (issued++ * 1000) / options.ratePerSecond;
        if (due > Date.now()) await sleep(due - Date.now());
        if (next >= options.count || Date.now() >= deadline) break;
      }
      const roll = random();
      let body: Tx | Tx[];
      let ids: string[];
      if (roll < (options.invalidShare ?? 0.05)) {
        // Deliberately invalid: a zero amount alone, or one bad item in a batch (the batch is all or nothing).
        const bad = { ...transaction(), amount: 0 };
        body = random() < 0.5 ? bad : [transaction(), bad];
        ids = Array.isArray(body) ? body.map((tx) => tx.id) : [body.id];
      } else if (roll < (options.invalidShare ?? 0.05) + (options.batchShare ?? 0.2)) {
        body = Array.from({ length: 2 + Math.floor(random() * 4) }, transaction);
        ids = body.map((tx) => tx.id);
      } else {
        body = transaction();
        ids = [body.id];
      }
      for (let attempt = 0; attempt <= (options.retries ?? 2); attempt++) {
        const { status } = await post(options.ingestUrl, body);
        outcomes.note(status);
        for (const id of ids) outcomes.record(id, status);
        options.onProgress?.(next);
        // Retry unknowns with the same ids, as a client with idempotent retries would.
        if (status !== 503 && status !== 'error') break;
        await sleep(500 + Math.floor(random() * 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return next;
}

// ---------------------------------------------------------------------------------------------------
// The invariants.

export interface LedgerFigures {
  sent: number;
  acknowledged: number;
  refused: number;
  unknown: number;
  /** Sent ids found in the canonical chain. */
  committed: number;
  /** Acknowledged but not in the canonical chain. */
  lost: number;
  /** Ids found more than once in the canonical chain (any id, not only ours). */
  duplicated: number;
  refusedCommitted: number;
  unknownCommitted: number;
  /** Responses by status code, retries included. */
  statuses: Record<string, number>;
  blocks: number;
  chainTransactions: number;
}

/** How often each id occurs in the canonical blocks (coinbases excluded). */
export function idCounts(blocks: readonly Block[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const block of blocks) for (const tx of block.transactions.slice(1)) counts.set(tx.id, (counts.get(tx.id) ?? 0) + 1);
  return counts;
}

export function ledgerFigures(blocks: readonly Block[], outcomes: Outcomes): LedgerFigures & { lostIds: string[]; duplicatedIds: string[]; refusedCommittedIds: string[] } {
  const counts = idCounts(blocks);
  const acked = outcomes.ids('acked');
  const refused = outcomes.ids('refused');
  const unknown = outcomes.ids('unknown');
  const lostIds = acked.filter((id) => !counts.has(id));
  const duplicatedIds = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const refusedCommittedIds = refused.filter((id) => counts.has(id));
  return {
    sent: outcomes.byId.size,
    acknowledged: acked.length,
    refused: refused.length,
    unknown: unknown.length,
    committed: [...outcomes.byId.keys()].filter((id) => counts.has(id)).length,
    lost: lostIds.length,
    duplicated: duplicatedIds.length,
    refusedCommitted: refusedCommittedIds.length,
    unknownCommitted: unknown.filter((id) => counts.has(id)).length,
    statuses: Object.fromEntries([...outcomes.statuses].map(([status, n]) => [String(status), n])),
    blocks: blocks.length,
    chainTransactions: [...counts.values()].reduce((a, b) => a + b, 0),
    lostIds,
    duplicatedIds,
    refusedCommittedIds,
  };
}

/** Balances implied by the canonical chain: credits minus debits per account, the mint "0" included. */
export function expectedBalances(blocks: readonly Block[]): Map<string, bigint> {
  const balances = new Map<string, bigint>();
  const add = (account: string, delta: bigint): void => void balances.set(account, (balances.get(account) ?? 0n) + delta);
  for (const block of blocks) {
    for (const tx of block.transactions) {
      add(tx.from, -BigInt(tx.amount));
      add(tx.to, BigInt(tx.amount));
    }
  }
  return balances;
}

/** Every account's balance at the auditor versus the chain; returns the mismatches. */
export async function balanceMismatches(auditorUrl: string, blocks: readonly Block[]): Promise<{ account: string; expected: string; auditor: string }[]> {
  const mismatches: { account: string; expected: string; auditor: string }[] = [];
  for (const [account, expected] of expectedBalances(blocks)) {
    const { status, body } = await getJson<{ balance: number | string }>(`${auditorUrl}/v1/accounts/${encodeURIComponent(account)}?limit=1`);
    const actual = status === 200 ? String(body.balance) : `HTTP ${status}`;
    if (actual !== expected.toString()) mismatches.push({ account, expected: expected.toString(), auditor: actual });
  }
  return mismatches;
}

export interface Head {
  height: number;
  hash: string | null;
  caughtUp: boolean;
}

export async function auditorHead(auditorUrl: string): Promise<Head> {
  return (await getJson<Head>(`${auditorUrl}/v1/chain/head`)).body;
}

/** Waits until the auditor reports the tracker's head (the chain must be quiet: all work committed). */
export async function waitForAgreement(tracker: ChainTracker, auditorUrl: string, timeoutMs = 60_000): Promise<Head> {
  const deadline = Date.now() + timeoutMs;
  let last: Head | undefined;
  for (;;) {
    await tracker.catchUp();
    try {
      last = await auditorHead(auditorUrl);
      if (last.height === tracker.height && last.hash === tracker.tip.hash) return last;
    } catch {
      // restarting
    }
    if (Date.now() > deadline) throw new Error(`auditor head ${JSON.stringify(last)} never matched ${tracker.height} ${tracker.chain.tip?.hash}`);
    await sleep(500);
  }
}

/** Waits until every acknowledged id is in the tracker's canonical chain (or the deadline passes). */
export async function waitForCommit(tracker: ChainTracker, outcomes: Outcomes, timeoutMs: number): Promise<void> {
  const acked = outcomes.ids('acked');
  try {
    await tracker.until(() => acked.every((id) => tracker.chain.hasTransaction(id)), timeoutMs, `commit of ${acked.length} acknowledged transactions`);
  } catch {
    // The figures name what is missing.
  }
}

export interface MinerStatus {
  minerId: string;
  chain: { height: number; tip: string };
  mined: number;
  orphaned: number;
  duplicates: number;
  poison: number;
}

export async function minerStatuses(stack: Stack): Promise<(MinerStatus | undefined)[]> {
  return Promise.all(
    stack.miners.map(async (_, i) => {
      try {
        return (await getJson<MinerStatus>(`${stack.minerUrl(i)}/status`)).body;
      } catch {
        return undefined;
      }
    }),
  );
}
