// The miner: follows and validates the chain, reads the transactions partitions it owns, cuts blocks,
// does the proof of work in worker threads and publishes. Consensus is the log: a published block is
// canonical iff the chain follower accepts it in offset order; otherwise the race was lost and whatever
// is still pending is mined again on the new tip.
import type { Express } from 'express';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Readiness } from '@chainlog/core/http';
import { type BlockRejection, ChainFollower, chainlogTopics, createKafka, type SourceWait, ensureTopics, partitionCount } from '@chainlog/core/kafka';
import { loggedTransactionIds, type Logger } from '@chainlog/core/logging';
import { assembleBlock, type Block, Chain, encodeBlock, GENESIS_BLOCK, sealBlock } from '@chainlog/core/protocol';
import { describeConfig, type MinerConfig } from './config.js';
import { cutDecision, selectBlockContents, type BlockContents } from './domain/block-policy.js';
import { intakeMessage } from './domain/intake.js';
import { PendingPool } from './domain/pending-pool.js';
import { planJoin, type Seek } from './domain/resume.js';
import { RecentMiners, yieldBoundMs } from './domain/turn-taking.js';
import { createMinerApp } from './http/routes.js';
import { createMinerMetrics, type MinerMetrics } from './metrics.js';
import { PowPool } from './pow/pow-pool.js';
import { MinerProducer } from './kafka/producer.js';
import { TransactionsConsumer, type TransactionMessage } from './kafka/transactions-consumer.js';

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

/** What one attempt to extend the chain is working on. */
interface MiningAttempt {
  readonly controller: AbortController;
  readonly tipHash: string;
  readonly partitions: ReadonlySet<number>;
}

/** A published block whose fate (canonical or not) the follower has not told yet. */
interface InflightBlock {
  readonly hash: string;
  readonly index: number;
  accepted: boolean;
  rejection?: BlockRejection;
}

const HASH_RATE_SAMPLE_MS = 2000;
const ERROR_BACKOFF_MS = 1000;
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
  readonly #pool = new PendingPool();
  readonly #follower: ChainFollower;
  readonly #consumer: TransactionsConsumer;
  readonly #producer: MinerProducer;
  readonly #pow: PowPool;
  readonly #options: MinerServiceOptions;
  /** Highest offset per partition this process already dead-lettered (re-reads after a rebalance skip it). */
  readonly #deadLettered = new Map<number, number>();
  readonly #recentMiners = new RecentMiners();
  /** The tip this miner last waited on for another miner's block: it waits once per tip at most. */
  #yieldedAtTip: string | undefined;
  /** The block offset and partition this miner last wrote a coverage probe for. */
  #probed: string | undefined;
  /** How long this miner's last canonical block took, from choosing its contents to reading it back. */
  #lastCycleMs: number | undefined;
  #running = false;
  #started = false;
  #fatal: Error | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #mining: MiningAttempt | undefined;
  #inflight: InflightBlock | undefined;
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
      ownedPartitions: () => this.#pool.partitions().length,
      pendingTransactions: () => new Map(this.#pool.partitions().map((partition) => [partition, this.#pool.transactionCount(partition)])),
    });
    this.#follower = new ChainFollower({
      kafka: this.#kafka,
      topic: config.topics.blockchain,
      chain: this.chain,
      logger: logger.child({ component: 'chain-follower' }),
      groupIdPrefix: `chainlog-miner-chain-${config.minerId}`,
      transactionsTopic: config.topics.transactions,
      onAccepted: (block) => this.#onCanonicalBlock(block),
      onRejected: (rejection) => this.#onRejectedBlock(rejection),
      onSourceWait: (wait) => this.#onSourceWait(wait),
    });
    this.#consumer = new TransactionsConsumer({
      kafka: this.#kafka,
      topic: config.topics.transactions,
      groupId: config.groupId,
      ordinal: config.ordinal,
      replicas: config.replicas,
      sessionTimeoutMs: config.sessionTimeoutMs,
      logger: logger.child({ component: 'transactions-consumer' }),
      onAssigned: (partitions) => this.#onAssigned(partitions),
      onMessage: (message) => this.#onTransactionMessage(message),
      onPosition: (partition, highWatermark, next) => {
        if (this.#pool.owns(partition)) this.metrics.partitionLag.set({ partition: String(partition) }, Math.max(0, highWatermark - next));
      },
      onCrash: (error, restart) => {
        if (!restart) this.#die(error);
      },
    });
    this.#producer = new MinerProducer(this.#kafka, config.topics, config.minerId);
    this.#pow = new PowPool({
      workers: config.powWorkers,
      logger,
      onHashes: (hashes) => this.metrics.hashes.inc(hashes),
    });
    this.app = createMinerApp({ logger, registry, readiness: () => this.readiness(), status: () => this.status() });
  }

  /** Transactions partitions this miner owns now, ascending. */
  get ownedPartitions(): number[] {
    return this.#pool.partitions();
  }

  /** Pending valid transactions over all owned partitions. */
  get pendingTransactions(): number {
    return this.#pool.transactionCount();
  }

  readiness(): Readiness {
    const ready = this.#started && this.#fatal === undefined && this.#follower.failure === undefined && this.#consumer.joined;
    return {
      ready,
      detail: {
        started: this.#started,
        chainHeight: this.chain.height,
        chainCaughtUp: this.#follower.caughtUp,
        consumerJoined: this.#consumer.joined,
        ownedPartitions: this.ownedPartitions,
        ...(this.#fatal ? { error: this.#fatal.message } : {}),
      },
    };
  }

  status(): Record<string, unknown> {
    return {
      minerId: this.#config.minerId,
      ordinal: this.#config.ordinal,
      minerPublicKey: this.#config.signer?.publicKey,
      difficulty: this.#config.difficulty,
      chain: { height: this.chain.height, tip: this.chain.tip?.hash, transactions: this.chain.transactionCount },
      ownedPartitions: this.ownedPartitions.map((partition) => ({
        partition,
        pendingTransactions: this.#pool.transactionCount(partition),
        pendingEntries: this.#pool.size(partition),
        nextOffset: this.#pool.nextOffset(partition),
        chainLastOffset: this.chain.lastSourceOffset(this.#config.topics.transactions, partition) ?? null,
        paused: this.#consumer.isPaused(partition),
      })),
      mining: this.#mining !== undefined,
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
    await this.#ensureTopics();
    await this.#producer.start();
    await this.#follower.start();
    await this.#follower.catchUp(this.#options.startupCatchUpTimeoutMs ?? 30 * 60_000);
    if (this.chain.tip === undefined) await this.#publishGenesis();
    logger.info({ height: this.chain.height, tip: this.chain.tip?.hash, transactions: this.chain.transactionCount }, 'chain caught up');
    await this.#pow.start();
    await this.#consumer.start();
    this.#timer = setInterval(() => this.#tick(), HASH_RATE_SAMPLE_MS);
    this.#timer.unref();
    this.#loop = this.#runLoop();
    this.#started = true;
    logger.info({ ownedPartitions: this.ownedPartitions }, 'miner started');
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#started = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#mining?.controller.abort();
    this.#wake?.();
    await this.#consumer.stop().catch((error: unknown) => this.#logger.warn({ err: error }, 'stopping the consumer failed'));
    await this.#follower.stop().catch((error: unknown) => this.#logger.warn({ err: error }, 'stopping the chain follower failed'));
    await this.#loop;
    await this.#pow.stop();
    await this.#producer.stop().catch((error: unknown) => this.#logger.warn({ err: error }, 'stopping the producer failed'));
  }

  async #ensureTopics(): Promise<void> {
    const { topics, transactionsPartitions } = this.#config;
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
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
    } finally {
      await admin.disconnect();
    }
  }

  /** No valid genesis in the log yet: publish the constant one. A second miner doing the same is harmless. */
  async #publishGenesis(): Promise<void> {
    const offset = await this.#producer.publishBlock(GENESIS_BLOCK);
    this.#logger.info({ offset, hash: GENESIS_BLOCK.hash }, 'published the genesis block');
    await this.#follower.waitUntilApplied(offset);
    if (this.chain.tip === undefined) throw new Error('the genesis block was published but the chain did not accept it');
  }

  // ---- chain events --------------------------------------------------------------------------------

  #onCanonicalBlock(block: Block): void {
    this.#recentMiners.record(block.index, block.miner);
    const topic = this.#config.topics.transactions;
    for (const source of block.sources) {
      if (source.topic === topic) this.#pool.advance(source.partition, source.lastOffset);
    }
    this.#resumeDrainedPartitions();
    if (this.#inflight?.hash === block.hash) this.#inflight.accepted = true;
    if (this.#mining !== undefined && this.chain.tip?.hash !== this.#mining.tipHash) {
      // A new tip: the candidate being mined can no longer extend the chain.
      this.#mining.controller.abort();
    }
    this.#wake?.();
  }

  /** Resumes paused partitions whose pending pool has drained to half its bound (or that this miner lost). */
  #resumeDrainedPartitions(): void {
    const low = Math.floor(this.#config.maxPendingPerPartition / 2);
    for (const partition of this.#pausedPartitions()) {
      if (!this.#pool.owns(partition) || this.#pool.size(partition) <= low) {
        this.#consumer.resume(partition);
        this.#logger.info({ partition, pending: this.#pool.size(partition) }, 'partition resumed');
      }
    }
  }

  #pausedPartitions(): number[] {
    return this.#pool.partitions().filter((partition) => this.#consumer.isPaused(partition));
  }

  #onRejectedBlock(rejection: BlockRejection): void {
    const inflight = this.#inflight;
    if (inflight !== undefined && rejection.claimedIndex === inflight.index && rejection.claimedMiner === this.#config.minerId) {
      inflight.rejection = rejection;
    }
    this.#logger.debug({ ...rejection }, 'block rejected by the chain');
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

  // ---- partitions and transactions -----------------------------------------------------------------

  #onAssigned(partitions: number[]): Seek[] {
    const topic = this.#config.topics.transactions;
    const chainLast = (partition: number): number | undefined => this.chain.lastSourceOffset(topic, partition);
    const plan = planJoin(this.#pool.partitions(), partitions, chainLast, (partition) => this.#pool.nextOffset(partition));
    for (const partition of plan.revoked) {
      this.#pool.revoke(partition);
      this.metrics.partitionLag.remove({ partition: String(partition) });
    }
    if (this.#mining !== undefined && plan.revoked.some((partition) => this.#mining?.partitions.has(partition))) {
      this.#mining.controller.abort();
    }
    for (const seek of plan.seeks) {
      if (seek.gained) this.#pool.assign(seek.partition, seek.offset);
      else {
        const last = chainLast(seek.partition);
        if (last !== undefined) this.#pool.advance(seek.partition, last);
      }
    }
    this.#logger.info({ assigned: partitions, revoked: plan.revoked, seeks: plan.seeks }, 'partition ownership changed');
    this.#wake?.();
    return plan.seeks;
  }

  async #onTransactionMessage(message: TransactionMessage): Promise<void> {
    const { partition, offset } = message;
    const next = this.#pool.nextOffset(partition);
    if (next === undefined || offset < next) return;
    const topic = this.#config.topics.transactions;
    const receivedAt = Date.now();
    const parsed = intakeMessage(message.value, { topic, partition, offset, timestamp: message.timestamp }, this.#config.consensus);
    if (parsed.ok) {
      this.#pool.offer({ kind: 'transaction', partition, offset, receivedAt, transaction: parsed.value });
      this.#logger.debug({ partition, offset, transactionId: parsed.value.id }, 'transaction pending');
    } else {
      if (offset > (this.#deadLettered.get(partition) ?? -1)) {
        // Dead-lettered before it joins the pool: a block covering it never exists without the copy.
        await this.#producer.deadLetter(message, parsed.error);
        this.#deadLettered.set(partition, offset);
        this.metrics.poisonMessages.inc();
        this.stats.poison++;
        this.#logger.warn({ topic, partition, offset, reason: parsed.error }, 'poison message sent to the dead-letter topic');
      }
      this.#pool.offer({ kind: 'poison', partition, offset, receivedAt, code: parsed.code, reason: parsed.error });
    }
    const pending = this.#pool.size(partition);
    this.stats.pendingHighWater = Math.max(this.stats.pendingHighWater, pending);
    if (pending >= this.#config.maxPendingPerPartition && !this.#consumer.isPaused(partition)) {
      this.#consumer.pause(partition);
      this.stats.pauses++;
      this.#logger.info({ partition, pending: this.#pool.size(partition) }, 'pending pool full, partition paused');
    }
    this.#wake?.();
  }

  // ---- the mining loop -----------------------------------------------------------------------------

  async #runLoop(): Promise<void> {
    const policy = { maxTransactions: this.#config.cutAtPendingTransactions, maxWaitMs: this.#config.maxBlockWaitMs };
    while (this.#running) {
      const decision = cutDecision(
        { transactions: this.#pool.transactionCount(), entries: this.#pool.size(), oldestReceivedAt: this.#pool.oldestReceivedAt() },
        Date.now(),
        policy,
      );
      if (!decision.cut) {
        await this.#sleep(decision.wakeInMs);
        continue;
      }
      if (this.#shouldLetOthersGoFirst()) {
        await this.#letOthersGoFirst();
        continue;
      }
      try {
        await this.#mineOnce();
      } catch (error) {
        if (!this.#running) break;
        this.#logger.error({ err: error }, 'mining attempt failed, retrying');
        await this.#sleep(ERROR_BACKOFF_MS);
      }
    }
  }

  /** See domain/turn-taking.ts: true at most once per tip. */
  #shouldLetOthersGoFirst(): boolean {
    const tip = this.chain.tip?.hash;
    if (tip === undefined || tip === this.#yieldedAtTip || !this.#recentMiners.shouldYield(this.#config.minerId)) return false;
    this.#yieldedAtTip = tip;
    return true;
  }

  /** Waits until another block extends the tip, or the bound passes. */
  async #letOthersGoFirst(): Promise<void> {
    const tip = this.chain.tip?.hash;
    const deadline = Date.now() + yieldBoundMs(this.#lastCycleMs, this.#config.maxBlockWaitMs);
    this.stats.yields++;
    this.metrics.turnsYielded.inc();
    while (this.#running && this.chain.tip?.hash === tip && Date.now() < deadline) await this.#sleep(deadline - Date.now());
  }

  /** Resolves after `ms` (never, when undefined) or as soon as something changes. */
  #sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      if (!this.#running) return done();
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** One try at the next block: consensus step, candidate, proof of work, publish, and the verdict. */
  async #mineOnce(): Promise<void> {
    const config = this.#config;
    const topic = config.topics.transactions;
    const started = performance.now();
    // Consensus step: everything published so far is applied (and the pool trimmed) before choosing.
    await this.#follower.catchUp();
    if (!this.#running) return;
    const tip = this.chain.tip;
    if (tip === undefined) throw new Error('the chain has no genesis block');
    const contents = selectBlockContents(this.#pool.entries(), this.chain, topic, config.cutAtPendingTransactions);
    if (contents.sources.length === 0) return;
    const candidate = assembleBlock({
      previous: tip.block,
      transactions: contents.transactions,
      sources: contents.sources,
      miner: config.minerId,
      timestamp: Date.now(),
      difficulty: config.difficulty,
      reward: config.consensus.blockReward,
      ...(config.signer ? { minerPublicKey: config.signer.publicKey } : {}),
    });
    const index = candidate.header.index;
    const attempt: MiningAttempt = {
      controller: new AbortController(),
      tipHash: tip.hash,
      partitions: new Set(contents.sources.map((source) => source.partition)),
    };
    this.#mining = attempt;
    this.#logger.info(
      { index, transactions: contents.transactions.length, sources: contents.sources, duplicates: contents.duplicates.length, poison: contents.poison },
      'mining block',
    );
    let result;
    try {
      result = await this.#pow.search(candidate.headerDigest, config.difficulty, attempt.controller.signal);
    } finally {
      if (this.#mining === attempt) this.#mining = undefined;
    }
    if (result.status !== 'found') {
      this.#logger.info({ index, status: result.status, hashes: result.hashes }, 'proof of work abandoned: the tip or the partitions changed');
      return;
    }
    this.metrics.miningDuration.observe(result.seconds);
    const block = sealBlock(candidate, result.nonce, config.signer);
    const checkedAtVersion = this.chain.version;
    const check = this.chain.check(block, { transactionHashes: candidate.transactionHashes });
    if (!check.accepted) {
      if (this.chain.tip?.hash !== tip.hash) return; // the tip moved while the proof of work finished
      throw new Error(`own block ${index} fails validation (${check.reason}): ${check.detail}`);
    }
    if (await this.#publish(block, checkedAtVersion, contents, result.hashes)) this.#lastCycleMs = performance.now() - started;
  }

  /** Publishes and waits for the verdict: true when the block became canonical. */
  async #publish(block: Block, checkedAtVersion: number, contents: BlockContents, hashes: number): Promise<boolean> {
    const inflight: InflightBlock = { hash: block.hash, index: block.index, accepted: false };
    this.#inflight = inflight;
    try {
      const bytes = encodeBlock(block);
      // Checked just above: when it comes back unchanged on an unchanged chain, the follower need not validate it again.
      this.#follower.expectOwnBlock(bytes, block, checkedAtVersion);
      const offset = await this.#producer.publishBlock(block, bytes);
      await this.#follower.waitUntilApplied(offset);
      // blockIndex and transactionIds: the same keys as ingest's and the auditor's logs (docs/observability.md).
      const log = { blockIndex: block.index, hash: block.hash, offset, transactions: contents.transactions.length, hashes };
      if (inflight.accepted) {
        this.stats.mined++;
        this.stats.duplicates += contents.duplicates.length;
        this.metrics.blocksMined.inc();
        this.metrics.blockTransactions.observe(contents.transactions.length);
        if (contents.duplicates.length > 0) this.metrics.duplicateTransactions.inc(contents.duplicates.length);
        this.#logger.info(
          {
            ...log,
            sources: block.sources,
            duplicates: contents.duplicates.length,
            poison: contents.poison,
            ...loggedTransactionIds(contents.transactions.map((t) => t.id)),
          },
          'mined block',
        );
        this.#logger.debug(
          { index: block.index, hash: block.hash, transactionIds: contents.transactions.map((t) => t.id), duplicateIds: contents.duplicates.map((t) => t.id) },
          'block transactions',
        );
      } else {
        this.stats.orphaned++;
        this.metrics.blocksOrphaned.inc();
        this.#logger.info({ ...log, reason: inflight.rejection?.reason, detail: inflight.rejection?.detail }, 'block lost the race, mining again on the new tip');
      }
      return inflight.accepted;
    } finally {
      if (this.#inflight === inflight) this.#inflight = undefined;
    }
  }

  // ---- housekeeping --------------------------------------------------------------------------------

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
