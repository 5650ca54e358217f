// The miner: follows and validates the chain, reads the transactions partitions it owns (partition-intake.ts)
// and mines them into blocks (mining-loop.ts). Consensus is the log: a published block is canonical iff the
// chain follower accepts it in offset order; otherwise the race was lost and whatever is still pending is
// mined again on the new tip. This file assembles the parts and runs start-up: topics, genesis, catch-up.
import type { Express } from 'express';
import type { Admin, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Readiness } from '@chainlog/core/http';
import { ChainCheckpoints, ChainFollower, chainlogTopics, createKafka, ensureTopics, partitionCount, provisionTopics, type SourceWait, waitForKafka } from '@chainlog/core/kafka';
import type { Logger } from '@chainlog/core/logging';
import { Chain, GENESIS_BLOCK } from '@chainlog/core/protocol';
import { describeConfig, type MinerConfig } from './config.js';
import { createMinerApp } from './http/routes.js';
import { MinerProducer } from './kafka/producer.js';
import { createMinerMetrics, type MinerMetrics } from './metrics.js';
import { MiningLoop } from './mining-loop.js';
import { PartitionIntake } from './partition-intake.js';
import { PowPool } from './pow/pow-pool.js';

export interface MinerServiceOptions {
  config: MinerConfig;
  logger: Logger;
  registry: Registry;
  /** Defaults to a client built from config.kafka. */
  kafka?: Kafka;
  /** Something the miner cannot recover from by itself (its chain view or consumer died for good). */
  onFatal?: (error: Error) => void;
  /** How long the start-up catch-up with the chain may take. */
  startupCatchUpTimeoutMs?: number;
}

const HASH_RATE_SAMPLE_MS = 2000;
/** How long miner k waits (k times this) for another miner's genesis block before publishing its own. */
const GENESIS_STAGGER_MS = 2000;
/** How long a block may wait on a quiet partition's end before this miner writes a record to decide it. */
const SOURCE_PROBE_AFTER_MS = 2000;

export class MinerService {
  readonly chain: Chain;
  readonly metrics: MinerMetrics;
  /** /healthz, /readyz, /metrics and /status; runService (or a test) listens. */
  readonly app: Express;
  readonly #config: MinerConfig;
  readonly #logger: Logger;
  readonly #kafka: Kafka;
  readonly #follower: ChainFollower;
  readonly #intake: PartitionIntake;
  readonly #loop: MiningLoop;
  readonly #producer: MinerProducer;
  readonly #pow: PowPool;
  readonly #checkpoints: ChainCheckpoints;
  readonly #options: MinerServiceOptions;
  #running = false;
  /** Aborts the wait for Kafka at start-up when the miner is stopped meanwhile. */
  readonly #startup = new AbortController();
  #started = false;
  #fatal: Error | undefined;
  /** The block offset and partition this miner last wrote a coverage probe for. */
  #probed: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastSample = { at: performance.now(), hashes: 0 };
  /** Plain counts for tests and /status (the metrics have the same numbers). */
  readonly stats = { mined: 0, orphaned: 0, yields: 0, duplicates: 0, poison: 0, pauses: 0, pendingHighWater: 0 };

  constructor(options: MinerServiceOptions) {
    const { config, logger, registry } = options;
    this.#options = options;
    this.#config = config;
    this.#logger = logger;
    this.#kafka = options.kafka ?? createKafka(config.kafka, logger);
    this.chain = new Chain(config.consensus);
    this.metrics = createMinerMetrics(registry, {
      chainHeight: () => this.chain.height,
      ownedPartitions: () => this.#intake.pool.partitions().length,
      oldestPendingTimestamp: () => this.#intake.pool.oldestTransactionTimestamp(),
      replayWindowMs: config.consensus.replayWindowMs,
      pendingTransactions: () => new Map(this.#intake.pool.partitions().map((partition) => [partition, this.#intake.pool.transactionCount(partition)])),
    });
    this.#producer = new MinerProducer(this.#kafka, config.topics, config.minerId);
    this.#pow = new PowPool({ workers: config.powWorkers, logger, onHashes: (hashes) => this.metrics.hashes.inc(hashes) });
    this.#follower = new ChainFollower({
      kafka: this.#kafka,
      topic: config.topics.blockchain,
      chain: this.chain,
      logger: logger.child({ component: 'chain-follower' }),
      groupIdPrefix: `chainlog-miner-chain-${config.minerId}`,
      transactionsTopic: config.topics.transactions,
      onAccepted: (block, offset) => {
        this.#checkpoints.onAccepted(block, offset);
        this.#loop.onCanonicalBlock(block);
        this.#intake.onCanonicalBlock(block);
        this.#loop.wake();
      },
      onRejected: (rejection) => this.#logger.debug({ ...rejection }, 'block rejected by the chain'),
      onSourceWait: (wait) => this.#onSourceWait(wait),
    });
    this.#checkpoints = new ChainCheckpoints({
      kafka: this.#kafka,
      settings: config.checkpoints,
      blockchainTopic: config.topics.blockchain,
      transactionsTopic: config.topics.transactions,
      chain: this.chain,
      logger: logger.child({ component: 'checkpoints' }),
      registry,
      writer: config.minerId,
      ...(config.signer === undefined ? {} : { signer: config.signer }),
    });
    this.#intake = new PartitionIntake({
      config,
      kafka: this.#kafka,
      chain: this.chain,
      producer: this.#producer,
      metrics: this.metrics,
      logger,
      stats: this.stats,
      onChange: () => this.#loop.wake(),
      onRevoked: (partitions) => this.#loop.onPartitionsRevoked(partitions),
      onFatal: (error) => this.#die(error),
      // Its own blocks need no records of its own partitions (see ChainFollower.readSourcesOnDemand).
      onOwned: (partitions) => this.#follower.readSourcesOnDemand(partitions),
    });
    this.#loop = new MiningLoop({
      config,
      chain: this.chain,
      follower: this.#follower,
      pool: this.#intake.pool,
      producer: this.#producer,
      pow: this.#pow,
      metrics: this.metrics,
      logger,
      stats: this.stats,
    });
    this.app = createMinerApp({ logger, registry, readiness: () => this.readiness(), status: () => this.status() });
  }

  /** The background verification from genesis after a restore from a checkpoint (undefined when none runs). */
  get verification(): Promise<'matched' | 'mismatched' | 'stopped'> | undefined {
    return this.#checkpoints.verification;
  }

  /** Transactions partitions this miner owns now, ascending. */
  get ownedPartitions(): number[] {
    return this.#intake.pool.partitions();
  }

  /** Pending valid transactions over all owned partitions. */
  get pendingTransactions(): number {
    return this.#intake.pool.transactionCount();
  }

  readiness(): Readiness {
    const ready = this.#started && this.#fatal === undefined && this.#follower.failure === undefined && this.#intake.joined;
    return {
      ready,
      detail: {
        started: this.#started,
        chainHeight: this.chain.height,
        chainCaughtUp: this.#follower.caughtUp,
        consumerJoined: this.#intake.joined,
        ownedPartitions: this.ownedPartitions,
        ...(this.#fatal ? { error: this.#fatal.message } : {}),
      },
    };
  }

  status(): Record<string, unknown> {
    const pool = this.#intake.pool;
    return {
      minerId: this.#config.minerId,
      ordinal: this.#config.ordinal,
      minerPublicKey: this.#config.signer?.publicKey,
      difficulty: this.#config.difficulty,
      chain: { height: this.chain.height, tip: this.chain.tip?.hash, transactions: this.chain.transactionCount },
      ownedPartitions: this.ownedPartitions.map((partition) => ({
        partition,
        pendingTransactions: pool.transactionCount(partition),
        pendingEntries: pool.size(partition),
        nextOffset: pool.nextOffset(partition),
        chainLastOffset: this.chain.lastSourceOffset(this.#config.topics.transactions, partition) ?? null,
        paused: this.#intake.isPaused(partition),
      })),
      mining: this.#loop.mining,
      ...this.stats,
    };
  }

  /**
   * Start-up: topics, genesis, the whole chain followed and validated, then the proof-of-work threads, the
   * consumer group (which seeks every partition it gets to the chain's resume offset) and the mining loop.
   */
  async start(): Promise<void> {
    const logger = this.#logger;
    logger.info({ settings: describeConfig(this.#config) }, 'miner starting');
    this.#running = true;
    try {
      await waitForKafka(this.#kafka, logger, { signal: this.#startup.signal });
    } catch (error) {
      if (!this.#running) return;
      throw error;
    }
    try {
      await provisionTopics(this.#kafka, logger, (admin) => this.#ensureTopics(admin), { signal: this.#startup.signal });
    } catch (error) {
      if (!this.#running) return;
      throw error;
    }
    await this.#producer.start();
    // From a verified checkpoint when there is one (replay window chains only), else from genesis.
    await this.#follower.start(await this.#checkpoints.restore());
    await this.#follower.catchUp(this.#options.startupCatchUpTimeoutMs ?? 30 * 60_000);
    if (this.chain.tip === undefined) await this.#initialiseChain();
    logger.info({ height: this.chain.height, tip: this.chain.tip?.hash, transactions: this.chain.transactionCount }, 'chain caught up');
    await this.#pow.start();
    await this.#intake.start();
    this.#timer = setInterval(() => this.#tick(), HASH_RATE_SAMPLE_MS);
    this.#timer.unref();
    this.#loop.start();
    this.#started = true;
    logger.info({ ownedPartitions: this.ownedPartitions }, 'miner started');
    await this.#checkpoints.verifyInBackground();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#started = false;
    this.#startup.abort(new Error('the miner is stopping'));
    if (this.#timer) clearInterval(this.#timer);
    const loopStopped = this.#loop.stop();
    await this.#intake.stop().catch((error: unknown) => this.#logger.warn({ err: error }, 'stopping the consumer failed'));
    await this.#follower.stop().catch((error: unknown) => this.#logger.warn({ err: error }, 'stopping the chain follower failed'));
    await this.#checkpoints.stop().catch((error: unknown) => this.#logger.warn({ err: error }, 'stopping the checkpoint writer failed'));
    await loopStopped;
    await this.#pow.stop();
    await this.#producer.stop().catch((error: unknown) => this.#logger.warn({ err: error }, 'stopping the producer failed'));
  }

  async #ensureTopics(admin: Admin): Promise<void> {
    const { topics, transactionsPartitions } = this.#config;
    // TRANSACTIONS_PARTITIONS only applies when creating the topic: growing it is the operator's job.
    const existing = await partitionCount(admin, topics.transactions);
    const changes = await ensureTopics(
      admin,
      chainlogTopics(topics, { transactionsPartitions: existing ?? transactionsPartitions, only: ['transactions', 'blockchain', 'deadLetter'] }),
    );
    for (const change of changes) this.#logger.info({ change }, 'topic changed');
    const blockchainPartitions = await partitionCount(admin, topics.blockchain);
    if (blockchainPartitions !== 1) {
      throw new Error(`the blockchain topic ${topics.blockchain} must have exactly 1 partition, it has ${blockchainPartitions}`);
    }
  }

  /**
   * No valid genesis in the log yet. Miners of a fresh ledger start together, and each would publish the
   * constant genesis block: miner 0 does at once, miner k first waits k × GENESIS_STAGGER_MS for it to appear.
   * Should miner 0 be down, the next one publishes it; an identical second copy (two miners racing anyway) is
   * rejected as stale by every reader and reported as a duplicate genesis, not as a fork.
   */
  async #initialiseChain(): Promise<void> {
    const deadline = Date.now() + Math.min(this.#config.ordinal, 10) * GENESIS_STAGGER_MS;
    // The follower keeps reading the topic in the background: a genesis block published meanwhile shows up as the tip.
    while (this.chain.tip === undefined && Date.now() < deadline && this.#running) await new Promise((resolve) => setTimeout(resolve, 200));
    if (this.chain.tip === undefined && this.#running) await this.#publishGenesis();
  }

  async #publishGenesis(): Promise<void> {
    const offset = await this.#producer.publishBlock(GENESIS_BLOCK);
    this.#logger.info({ offset, hash: GENESIS_BLOCK.hash }, 'published the genesis block');
    await this.#follower.waitUntilApplied(offset);
    if (this.chain.tip === undefined) throw new Error('the genesis block was published but the chain did not accept it');
  }

  /**
   * A block claims offsets past a transactions partition's end, and nothing has been written there since:
   * every reader waits (accepting it unseen would let it hide later transactions). One empty record
   * decides it, so the chain does not stall on a quiet partition. Once per block and partition.
   */
  async #onSourceWait(wait: SourceWait): Promise<void> {
    if (!wait.pastEnd || wait.waitedMs < SOURCE_PROBE_AFTER_MS) return;
    const key = `${wait.offset}/${wait.partition}`;
    if (this.#probed === key) return;
    this.#probed = key;
    this.#logger.warn({ ...wait }, 'a block claims offsets past the end of a transactions partition: writing an empty record to decide it');
    await this.#producer.probeTransactionsPartition(wait.partition);
  }

  #tick(): void {
    const now = performance.now();
    const hashes = this.#pow.totalHashes;
    const seconds = (now - this.#lastSample.at) / 1000;
    if (seconds > 0) this.metrics.hashRate.set((hashes - this.#lastSample.hashes) / seconds);
    this.#lastSample = { at: now, hashes };
    const followerFailure = this.#follower.failure;
    if (followerFailure !== undefined) this.#die(followerFailure);
  }

  #die(error: Error): void {
    if (this.#fatal !== undefined) return;
    this.#fatal = error;
    this.#logger.fatal({ err: error }, 'the miner cannot continue');
    this.#options.onFatal?.(error);
  }
}
