// The mining loop: when the block policy says cut, take turns with the other miners, catch up with the
// chain (the consensus step), assemble a candidate from the pending pool, search the nonce in worker
// threads (aborted when the tip or the partitions change), check it, publish it and read the verdict for
// its offset back from the chain follower: canonical, or a lost race whose transactions are mined again.
import type { ChainFollower } from '@chainlog/core/kafka';
import { loggedTransactionIds, type Logger } from '@chainlog/core/logging';
import { assembleBlock, type Block, type Chain, encodeBlock, sealBlock } from '@chainlog/core/protocol';
import type { MinerConfig } from './config.js';
import { cutDecision, selectBlockContents, type BlockContents } from './domain/block-policy.js';
import type { PendingPool } from './domain/pending-pool.js';
import { RecentMiners, yieldBoundMs } from './domain/turn-taking.js';
import type { MinerProducer } from './kafka/producer.js';
import type { MinerMetrics } from './metrics.js';
import type { PowPool } from './pow/pow-pool.js';

/** Plain counts for tests and /status (the metrics have the same numbers). */
export interface MiningStats {
  mined: number;
  orphaned: number;
  yields: number;
  duplicates: number;
}

export interface MiningLoopOptions {
  readonly config: MinerConfig;
  readonly chain: Chain;
  readonly follower: ChainFollower;
  readonly pool: PendingPool;
  readonly producer: MinerProducer;
  readonly pow: PowPool;
  readonly metrics: MinerMetrics;
  readonly logger: Logger;
  readonly stats: MiningStats;
}

/** What one attempt to extend the chain is working on. */
interface MiningAttempt {
  readonly controller: AbortController;
  readonly tipHash: string;
  readonly partitions: ReadonlySet<number>;
}

const ERROR_BACKOFF_MS = 1000;

export class MiningLoop {
  readonly #options: MiningLoopOptions;
  readonly #recentMiners = new RecentMiners();
  /** The tip this miner last waited on for another miner's block: it waits once per tip at most. */
  #yieldedAtTip: string | undefined;
  /** How long this miner's last canonical block took, from choosing its contents to reading it back. */
  #lastCycleMs: number | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #mining: MiningAttempt | undefined;

  constructor(options: MiningLoopOptions) {
    this.#options = options;
  }

  /** A proof-of-work search is under way. */
  get mining(): boolean {
    return this.#mining !== undefined;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#mining?.controller.abort();
    this.#wake?.();
    await this.#loop;
  }

  /** Something changed (pending transactions, ownership, the tip): look again now. */
  wake(): void {
    this.#wake?.();
  }

  /** A block joined the chain: it counts for turn-taking, and a candidate on the old tip is stale. */
  onCanonicalBlock(block: Block): void {
    this.#recentMiners.record(block.index, block.miner);
    if (this.#mining !== undefined && this.#options.chain.tip?.hash !== this.#mining.tipHash) {
      // A new tip: the candidate being mined can no longer extend the chain.
      this.#mining.controller.abort();
    }
  }

  /** Partitions this miner lost: a candidate with transactions from them must not be published. */
  onPartitionsRevoked(partitions: readonly number[]): void {
    if (this.#mining !== undefined && partitions.some((partition) => this.#mining?.partitions.has(partition))) this.#mining.controller.abort();
  }

  async #run(): Promise<void> {
    const { config, pool, logger } = this.#options;
    const policy = { maxTransactions: config.cutAtPendingTransactions, maxWaitMs: config.maxBlockWaitMs };
    while (this.#running) {
      const decision = cutDecision({ transactions: pool.transactionCount(), entries: pool.size(), oldestReceivedAt: pool.oldestReceivedAt() }, Date.now(), policy);
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
        logger.error({ err: error }, 'mining attempt failed, retrying');
        await this.#sleep(ERROR_BACKOFF_MS);
      }
    }
  }

  /** See domain/turn-taking.ts: true at most once per tip. */
  #shouldLetOthersGoFirst(): boolean {
    const tip = this.#options.chain.tip?.hash;
    if (tip === undefined || tip === this.#yieldedAtTip || !this.#recentMiners.shouldYield(this.#options.config.minerId)) return false;
    this.#yieldedAtTip = tip;
    return true;
  }

  /** Waits until another block extends the tip, or the bound passes. */
  async #letOthersGoFirst(): Promise<void> {
    const { chain, config, metrics, stats } = this.#options;
    const tip = chain.tip?.hash;
    const deadline = Date.now() + yieldBoundMs(this.#lastCycleMs, config.maxBlockWaitMs);
    stats.yields++;
    metrics.turnsYielded.inc();
    while (this.#running && chain.tip?.hash === tip && Date.now() < deadline) await this.#sleep(deadline - Date.now());
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
    const { config, chain, follower, pool, pow, metrics, logger } = this.#options;
    const topic = config.topics.transactions;
    const started = performance.now();
    // Consensus step: everything published so far is applied (and the pool trimmed) before choosing.
    await follower.catchUp();
    if (!this.#running) return;
    const tip = chain.tip;
    if (tip === undefined) throw new Error('the chain has no genesis block');
    // assembleBlock's timestamp, known before selecting: the replay window is relative to it.
    const timestamp = Math.max(Date.now(), tip.block.timestamp);
    const windowMs = config.consensus.replayWindowMs;
    const window = windowMs === undefined ? undefined : { timestamp, windowMs };
    const { ledger } = config.consensus;
    const blockLedger = ledger === undefined ? undefined : { params: ledger, miner: config.minerId, reward: config.consensus.blockReward };
    // Cut at the threshold, take up to the limits: under a backlog a block drains it, oldest first.
    const limits = { maxTransactions: config.takeUpToTransactions, maxBytes: config.takeUpToBytes };
    const contents = selectBlockContents(pool.entries(), chain, topic, limits, window, blockLedger);
    if (contents.sources.length === 0) return;
    const candidate = assembleBlock({
      previous: tip.block,
      transactions: contents.transactions,
      sources: contents.sources,
      miner: config.minerId,
      timestamp,
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
    logger.info(
      {
        index,
        transactions: contents.transactions.length,
        sources: contents.sources,
        duplicates: contents.duplicates.length,
        outOfWindow: contents.outOfWindow.length,
        refused: contents.refused.length,
        poison: contents.poison,
      },
      'mining block',
    );
    let result;
    try {
      result = await pow.search(candidate.headerDigest, config.difficulty, attempt.controller.signal);
    } finally {
      if (this.#mining === attempt) this.#mining = undefined;
    }
    if (result.status !== 'found') {
      logger.info({ index, status: result.status, hashes: result.hashes }, 'proof of work abandoned: the tip or the partitions changed');
      return;
    }
    metrics.miningDuration.observe(result.seconds);
    const block = sealBlock(candidate, result.nonce, config.signer);
    const checkedAtVersion = chain.version;
    const check = chain.check(block, { transactionHashes: candidate.transactionHashes });
    if (!check.accepted) {
      if (chain.tip?.hash !== tip.hash) return; // the tip moved while the proof of work finished
      throw new Error(`own block ${index} fails validation (${check.reason}): ${check.detail}`);
    }
    if (await this.#publish(block, checkedAtVersion, contents, result.hashes)) this.#lastCycleMs = performance.now() - started;
  }

  /** Publishes and waits for the verdict on its offset: true when the block became canonical. */
  async #publish(block: Block, checkedAtVersion: number, contents: BlockContents, hashes: number): Promise<boolean> {
    const { follower, producer, metrics, logger, stats } = this.#options;
    const bytes = encodeBlock(block);
    // Checked just above: when it comes back unchanged on an unchanged chain, the follower need not validate it again.
    follower.expectOwnBlock(bytes, block, checkedAtVersion);
    const offset = await producer.publishBlock(block, bytes);
    const verdict = await follower.waitUntilApplied(offset);
    if (verdict === undefined) throw new Error(`the verdict on own block ${block.index} at offset ${offset} is no longer known`);
    // blockIndex and transactionIds: the same keys as ingest's and the auditor's logs (docs/observability.md).
    const log = { blockIndex: block.index, hash: block.hash, offset, transactions: contents.transactions.length, hashes };
    if (!verdict.accepted) {
      stats.orphaned++;
      metrics.blocksOrphaned.inc();
      logger.info({ ...log, reason: verdict.rejection.reason, detail: verdict.rejection.detail }, 'block lost the race, mining again on the new tip');
      return false;
    }
    stats.mined++;
    stats.duplicates += contents.duplicates.length;
    metrics.blocksMined.inc();
    metrics.blockTransactions.observe(contents.transactions.length);
    if (contents.duplicates.length > 0) metrics.duplicateTransactions.inc(contents.duplicates.length);
    for (const { reason } of contents.refused) metrics.refusedTransactions.inc({ reason });
    logger.info(
      { ...log, sources: block.sources, duplicates: contents.duplicates.length, refused: contents.refused.length, poison: contents.poison, ...loggedTransactionIds(contents.transactions.map((t) => t.id)) },
      'mined block',
    );
    logger.debug(
      { index: block.index, hash: block.hash, transactionIds: contents.transactions.map((t) => t.id), duplicateIds: contents.duplicates.map((t) => t.id) },
      'block transactions',
    );
    return true;
  }
}
