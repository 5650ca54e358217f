/**
 * Wires the auditor: the chain follower (blockchain topic → AuditorState), the transactions follower
 * (pending transactions), the audit publisher, metrics and the HTTP API. main.ts hands it to runService;
 * tests create the service directly and listen on its app.
 */
import { createHttpApp } from '@chainlog/core/http';
import { ChainCheckpoints, ChainFollower, chainlogTopics, createKafka, ensureTopics, probeMessageAt, provisionTopics, waitForKafka } from '@chainlog/core/kafka';
import { loggedTransactionIds, type Logger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { type Block, type ChainState, COINBASE_SENDER, encodeBlock, type RefusedRecord } from '@chainlog/core/protocol';
import type { SourceWait } from '@chainlog/core/kafka';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { Kafka } from 'kafkajs';
import { SERVICE_NAME, type AuditorConfig } from './config.js';
import { AuditorState } from './domain/auditor-state.js';
import { indexIdentity } from './domain/index-validity.js';
import type { IndexStore } from './store/index-store.js';
import { LevelIndexStore } from './store/level-store.js';
import { MemoryIndexStore } from './store/memory-store.js';
import { buildOpenApiDocument } from './http/openapi.js';
import { registerAuditorHttp } from './http/app.js';
import { LiveStream } from './http/live-stream.js';
import { liveView } from './domain/live-stats.js';
import { auditEvent, coverageAnomalyEvent } from './kafka/audit-event.js';
import { AuditPublisher } from './kafka/audit-publisher.js';
import { readAuditWatermark } from './kafka/audit-watermark.js';
import { checkStoredIndex } from './kafka/stored-index-check.js';
import { TransactionsFollower } from './kafka/transactions-follower.js';
import { TransactionsReadCheck } from './kafka/transactions-read-check.js';
import { waitForTopic } from './kafka/wait-for-topic.js';
import { createAuditorMetrics, type AuditorMetrics } from './metrics.js';

/** How long a block may wait on records past a partition's end before the auditor reports an anomaly. */
const COVERAGE_ANOMALY_AFTER_MS = 1000;
/** Blocks the ledger applies per turn of the event loop while it catches up (HTTP keeps answering between). */
const LEDGER_STEP_BLOCKS = 8;

export interface AuditorServiceOptions {
  /** Called when a follower fails for good; main.ts exits so the orchestrator restarts the auditor. */
  readonly onFatal?: (error: Error) => void;
  readonly topicPollIntervalMs?: number;
  /** Defaults to a new registry for the auditor. */
  readonly registry?: Registry;
  /** How the stored index's top block is looked up on the blockchain topic at start-up (tests slow it down). */
  readonly probeMessageAt?: typeof probeMessageAt;
}

/** Where the start-up check of a stored index is (readiness shows it while the broker does not answer). */
type IndexCheckState = 'pending' | 'retrying' | 'done';

export class AuditorService {
  readonly state: AuditorState;
  readonly registry: Registry;
  readonly app: Express;
  readonly follower: ChainFollower;
  readonly transactions: TransactionsFollower;
  readonly #transactionsRead: TransactionsReadCheck;
  readonly publisher: AuditPublisher | undefined;
  readonly live: LiveStream;
  /** Whether `/` serves the explorer (enabled and built). */
  readonly explorerServed: boolean;
  readonly #config: AuditorConfig;
  readonly #logger: Logger;
  readonly #options: AuditorServiceOptions;
  readonly #kafka: Kafka;
  readonly #checkpoints: ChainCheckpoints;
  readonly #identity: string;
  #ledgerDriving = false;
  #watermark = -1;
  #followerStarted = false;
  /** The initial replay of the blockchain topic is done (commits are logged at info from then on). */
  #replayed = false;
  /** The blockchain offset of the last block reported as a coverage anomaly (once per block). */
  #anomalyReported = -1;
  readonly #metrics: AuditorMetrics;
  #stopped = false;
  /** Aborts the wait for Kafka at start-up when the auditor is stopped meanwhile. */
  readonly #startup = new AbortController();
  #watchdog: NodeJS.Timeout | undefined;
  #background: Promise<void> | undefined;
  /** The back-fill's last block and its replay's state, kept as the resume point when the auditor stops. */
  #lastBackfilled: { readonly offset: number; readonly hash: string; readonly state: () => ChainState | undefined } | undefined;
  #indexCheck: IndexCheckState = 'pending';

  constructor(config: AuditorConfig, logger: Logger, options: AuditorServiceOptions = {}) {
    this.#config = config;
    this.#logger = logger;
    this.#options = options;
    const kafka = createKafka(config.kafka, logger);
    this.#kafka = kafka;
    this.#identity = indexIdentity(config.consensus, config.topics.blockchain);
    // On disk, the store opens in start() (LevelDB opens asynchronously); until then it reads as empty.
    const store: IndexStore = config.dataDir === undefined ? new MemoryIndexStore() : new LevelIndexStore(config.dataDir);
    this.state = new AuditorState({
      params: config.consensus,
      transactionsTopic: config.topics.transactions,
      recentLimit: config.recentLimit,
      blockCacheBytes: config.blockCacheBytes,
      pendingTrackLimit: config.pendingTrackLimit,
      store,
      identity: this.#identity,
    });
    this.registry = options.registry ?? createMetricsRegistry(SERVICE_NAME);
    const metrics = createAuditorMetrics(this.registry, this.state, () => ({ caughtUp: this.caughtUp }));
    this.#metrics = metrics;
    // The auditor reads the miners' checkpoints and never writes one.
    this.#checkpoints = new ChainCheckpoints({
      kafka,
      settings: { ...config.checkpoints, everyTransactions: 0, everyBlocks: 0 },
      blockchainTopic: config.topics.blockchain,
      transactionsTopic: config.topics.transactions,
      chain: this.state.chain,
      logger: logger.child({ component: 'checkpoints' }),
      registry: this.registry,
      writer: config.kafka.clientId,
    });

    this.publisher = config.publishAuditEvents
      ? new AuditPublisher({
          kafka,
          topic: config.topics.audit,
          logger: logger.child({ component: 'audit-publisher' }),
          queueLimit: config.auditQueueLimit,
          onPublished: (count) => metrics.auditEventsPublished(count),
          onDropped: (count) => metrics.auditEventsDropped(count),
        })
      : undefined;

    this.follower = new ChainFollower({
      kafka,
      topic: config.topics.blockchain,
      chain: this.state.chain,
      logger: logger.child({ component: 'chain-follower' }),
      groupIdPrefix: 'chainlog-auditor',
      transactionsTopic: config.topics.transactions,
      onSourceWait: (wait) => this.#onSourceWait(wait),
      onAccepted: async (block, offset, bytes, refused) => {
        const outcome = this.state.accept(block, offset, bytes, refused);
        if (this.state.ledgerBehind) this.#driveLedger();
        metrics.blockAccepted(outcome, this.follower.isReplay(offset) ? undefined : Date.now());
        // Log correlation (docs/observability.md): block index and transaction ids of every commit; at debug
        // while replaying the topic on start-up, so a restart does not log the whole chain again.
        const userIds = block.transactions.filter((transaction) => transaction.from !== COINBASE_SENDER).map((transaction) => transaction.id);
        logger[this.#replayed ? 'info' : 'debug'](
          {
            blockIndex: block.index,
            hash: block.hash,
            offset,
            miner: block.miner,
            transactions: userIds.length,
            ...loggedTransactionIds(userIds),
          },
          'block committed',
        );
        for (const overdraft of outcome.overdrafts) {
          logger.info({ account: overdraft.account, transactionId: overdraft.transactionId, blockIndex: block.index }, 'overdraft');
        }
        // The next block waits while the store's unwritten writes are over its bound (IndexStore.drained).
        await this.state.store.drained();
      },
      onRejected: (rejection) => {
        const outcome = this.state.reject(rejection);
        if (!outcome.recorded) {
          // Recorded and reported before a restart (the index on DATA_DIR keeps the audit log): not twice.
          logger.debug({ offset: rejection.offset, reason: rejection.reason }, 'rejected block recorded already');
          return;
        }
        if (rejection.duplicateGenesis === true) {
          // Two miners of a fresh ledger both published the constant genesis block: the same block twice, no fork.
          logger.info({ offset: rejection.offset }, 'a second, identical copy of the genesis block: ignored');
        } else {
          logger.warn({ ...rejection, fork: outcome.fork }, 'block rejected');
        }
        if (this.publisher !== undefined && rejection.offset > this.#watermark) {
          this.publisher.publish(auditEvent(config.topics.blockchain, outcome.record, outcome.fork, config.kafka.clientId));
        }
      },
    });
    this.transactions = new TransactionsFollower({
      kafka,
      topic: config.topics.transactions,
      logger: logger.child({ component: 'transactions-follower' }),
      tracker: this.state.pending,
      ...(options.topicPollIntervalMs === undefined ? {} : { topicPollIntervalMs: options.topicPollIntervalMs }),
    });

    this.#transactionsRead = new TransactionsReadCheck({
      kafka,
      topic: config.topics.transactions,
      follower: this.transactions,
    });

    const { app, finish } = createHttpApp({ logger, registry: this.registry, readiness: () => this.readiness() });
    this.live = new LiveStream({ snapshot: () => liveView(this.state, this.caughtUp, Date.now()), maxClients: config.liveStreamLimit });
    this.explorerServed = registerAuditorHttp(app, {
      api: {
        state: this.state,
        openapi: buildOpenApiDocument(),
        progress: () => ({ caughtUp: this.caughtUp, appliedOffset: this.follower.appliedOffset }),
        transactionsRead: () => this.#transactionsRead.check(),
        onNotFound: (outcome) => metrics.notFoundLookup(outcome),
      },
      live: this.live,
      explorerDir: config.explorer.enabled ? config.explorer.dir : undefined,
      authTokens: config.authTokens,
    });
    finish();
    this.app = app;
  }

  /** Every blockchain message up to the last known end offset is applied. */
  get caughtUp(): boolean {
    return this.#followerStarted && this.follower.caughtUp;
  }

  readiness(): { ready: boolean; detail: Record<string, unknown> } {
    const failure = this.follower.failure ?? this.transactions.failure;
    const index = this.state.indexProgress();
    const detail = {
      height: this.state.index.height,
      index: { store: this.state.store.location, complete: index.complete, missingBlocks: index.missingBlocks, ledgerHeight: index.ledgerHeight },
      appliedOffset: this.follower.appliedOffset,
      blockchain: this.#blockchainState(),
      transactions: this.transactions.state,
      ...(failure === undefined ? {} : { failure: failure.message }),
    };
    return { ready: this.caughtUp && failure === undefined, detail };
  }

  #blockchainState(): string {
    if (this.#followerStarted) return this.follower.caughtUp ? 'caught-up' : 'catching-up';
    return this.#indexCheck === 'retrying' ? 'checking-stored-index' : 'waiting-for-topic';
  }

  /**
   * A block claims transactions-topic offsets past a partition's end: an honest miner never does, so
   * once the reader has seen the partition's end and waited a moment, it is an anomaly (critical), reported
   * once per block. The block stays undecided until records exist there (a miner writes one to decide it).
   */
  #onSourceWait(wait: SourceWait): void {
    if (!wait.pastEnd || wait.waitedMs < COVERAGE_ANOMALY_AFTER_MS || this.#anomalyReported === wait.offset) return;
    this.#anomalyReported = wait.offset;
    const { offset, claimedIndex, claimedMiner, partition, through, detail } = wait;
    // Reported before a restart already (the audit log is kept with the index on DATA_DIR): not twice.
    if (!this.state.recordAnomaly({ offset, claimedIndex, claimedMiner, partition, claimedThrough: through, detail }).recorded) return;
    this.#logger.error({ ...wait }, 'coverage anomaly: a block claims offsets past the end of a transactions partition');
    const { topics, kafka } = this.#config;
    this.publisher?.publish(coverageAnomalyEvent(topics.blockchain, wait, kafka.clientId));
  }

  /**
   * Waits for Kafka (with backoff, not ready meanwhile), creates the audit topic, reads the audit watermark
   * and starts the followers. Topics owned by other services (blockchain, transactions) are waited for in the
   * background (the service reports not ready meanwhile).
   */
  async start(): Promise<void> {
    await this.#openStore();
    if (this.#stopped) return;
    if (this.#config.explorer.enabled) {
      if (this.explorerServed) this.#logger.info({ path: '/' }, 'explorer served');
      else this.#logger.warn({ dir: this.#config.explorer.dir }, 'explorer not built (npm run build): / is not served');
    }
    try {
      await waitForKafka(this.#kafka, this.#logger, { signal: this.#startup.signal });
    } catch (error) {
      if (this.#stopped) return;
      throw error;
    }
    const { topics } = this.#config;
    if (this.publisher !== undefined) {
      try {
        await provisionTopics(
          this.#kafka,
          this.#logger,
          async (admin) => {
            const changes = await ensureTopics(admin, chainlogTopics(topics, { transactionsPartitions: 1, only: ['audit'] }));
            for (const change of changes) this.#logger.info(change);
          },
          { signal: this.#startup.signal },
        );
      } catch (error) {
        if (this.#stopped) return;
        throw error;
      }
      this.#watermark = await readAuditWatermark(this.#kafka, topics.audit, topics.blockchain, this.#logger);
      await this.publisher.start();
    }
    // Without a replay window there is no checkpoint to start from: pending transactions are read from the start.
    if (this.state.chain.params.replayWindowMs === undefined) this.transactions.start();
    this.#background = this.#startFollower().catch((error: unknown) => this.#fatal(error as Error));
    this.#watchdog = setInterval(() => {
      const failure = this.follower.failure ?? this.transactions.failure;
      if (failure !== undefined) this.#fatal(failure);
    }, 1000);
    this.#watchdog.unref();
  }

  /**
   * Opens the index on DATA_DIR and loads what it holds; one that cannot be read, or that an OS crash may have
   * damaged, is deleted and rebuilt from the chain (reported): a crash loop on a bad file would be worse.
   */
  async #openStore(): Promise<void> {
    const { store } = this.state;
    if (!(store instanceof LevelIndexStore)) return;
    const opened = await store.openOrRebuild();
    if (opened.discarded !== undefined) {
      const reason = opened.reason ?? 'corrupt';
      this.#logger.warn({ store: store.location, reason, err: opened.discarded }, 'stored index unreadable or possibly damaged: deleted, rebuilding it from the chain');
      this.#metrics.indexRebuilt(reason);
    }
    this.state.reloadIndex();
  }

  async #startFollower(): Promise<void> {
    const exists = await waitForTopic(this.#kafka, this.#config.topics.blockchain, this.#logger, {
      stopped: () => this.#stopped,
      ...(this.#options.topicPollIntervalMs === undefined ? {} : { intervalMs: this.#options.topicPollIntervalMs }),
    });
    if (!exists || this.#stopped) return;
    const started = Date.now();
    await this.#checkStoredIndex();
    if (this.#stopped) return;
    const from = await this.#checkpoints.restore();
    const restored = this.#checkpoints.restored;
    if (restored !== undefined) {
      // The checkpoint's tip is canonical: it opens the index's live range (the back-fill fills what is below).
      const tip = restored.state.tip;
      this.state.backfill(tip, restored.tipOffset, restored.state.transactionCount - tip.transactions.length, encodeBlock(tip));
      this.#driveLedger();
    }
    // Pending transactions: what the chain has not consumed yet (after a restore, not the whole topic again).
    if (!this.transactions.started) this.transactions.start(this.state.chain.sourceOffsets());
    await this.follower.start(from);
    this.#followerStarted = true;
    await this.follower.catchUp(24 * 3600_000);
    this.#replayed = true;
    const index = this.state.indexProgress();
    this.#logger.info(
      { height: this.state.index.height, rejected: this.state.audit.rejectedCount, ms: Date.now() - started, index },
      'caught up with the blockchain topic',
    );
    if (restored !== undefined) {
      // After ready, so it does not delay start-up: the replay from genesis verifies the checkpoint and back-fills.
      // Continuing where an earlier run's back-fill stopped (kept on DATA_DIR), not from genesis again: a back-fill
      // that a restart sent back to genesis each time might never finish on a long chain.
      const resumeFrom = this.state.backfillResume();
      if (resumeFrom !== undefined) this.#logger.info({ fromIndex: resumeFrom.state.tip.index, fromOffset: resumeFrom.offset + 1 }, 'back-fill continues where it stopped');
      await this.#checkpoints.verifyInBackground({
        force: !index.ledgerComplete,
        onAccepted: (block, offset, bytes, firstSeq, state, refused) => this.#backfill(block, offset, bytes, firstSeq, state, refused),
        ...(resumeFrom === undefined ? {} : { resumeFrom }),
      });
    }
  }

  /**
   * An index left on DATA_DIR by a previous run is used only if it belongs to this chain and the block it is
   * valid up to is still on the blockchain topic (domain/index-validity.ts); otherwise it is rebuilt. While the
   * broker does not answer, the check is retried (not ready meanwhile): no answer is no reason to rebuild.
   */
  async #checkStoredIndex(): Promise<void> {
    const { store } = this.state;
    const probe = this.#options.probeMessageAt ?? probeMessageAt;
    const verdict = await checkStoredIndex({
      store,
      identity: this.#identity,
      probe: (offset) => probe(this.#kafka, this.#config.topics.blockchain, offset, this.#logger),
      signal: this.#startup.signal,
      onUnknown: (attempt, detail, retryInMs) => {
        this.#indexCheck = 'retrying';
        this.#metrics.indexCheckRetried();
        this.#logger.warn({ store: store.location, attempt, detail, retryInMs }, 'cannot check the stored index against the blockchain topic (broker slow or unreachable): kept, asking again');
      },
    });
    this.#indexCheck = 'done';
    if (verdict?.verdict === 'rebuild') {
      this.#logger.warn({ store: store.location, reason: verdict.reason, detail: verdict.detail }, 'stored index not used: rebuilding it from the chain');
      this.#metrics.indexRebuilt(verdict.reason);
      this.state.resetIndex();
    } else if (verdict?.verdict === 'valid') {
      const progress = this.state.indexProgress();
      this.#logger.info({ store: store.location, top: verdict.top, ...progress }, 'stored index is on the chain: answering from it');
    }
  }

  async #backfill(block: Block, offset: number, bytes: Uint8Array, firstSeq: number, state: () => ChainState | undefined, refused: readonly RefusedRecord[]): Promise<void> {
    if (this.#stopped) return;
    const before = this.state.indexProgress();
    this.state.backfillFromReplay(block, offset, firstSeq, bytes, state, refused);
    this.#lastBackfilled = { offset, hash: block.hash, state };
    this.#metrics.blockBackfilled();
    this.#driveLedger();
    const after = this.state.indexProgress();
    if (!before.complete && after.complete) this.#logger.info({ height: after.height }, 'index back-filled: every block from genesis is indexed');
    await this.state.store.drained();
  }

  /** An unfinished back-fill keeps where it stopped (the replay is stopped: its state is the last block's). */
  #keepBackfillResume(): void {
    const last = this.#lastBackfilled;
    if (last === undefined || this.state.indexProgress().complete || !this.state.store.persistent) return;
    try {
      if (this.state.keepBackfillResume(last.state(), last.offset, last.hash)) this.#logger.info({ offset: last.offset }, 'back-fill stopped: a restart continues after this block');
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not keep where the back-fill stopped: a restart continues from the last point kept');
    }
  }

  /** Lets the ledger apply the indexed blocks it has not applied yet, a few per turn of the event loop. */
  #driveLedger(): void {
    if (this.#ledgerDriving || this.#stopped) return;
    this.#ledgerDriving = true;
    const step = (): void => {
      if (this.#stopped) return;
      this.state.advanceLedger(LEDGER_STEP_BLOCKS);
      if (this.state.ledgerBehind) {
        // After the store's unwritten writes are within its bound; a failed write stops the service.
        this.state.store.drained().then(
          () => setImmediate(step),
          (error: unknown) => this.#fatal(error as Error),
        );
        return;
      }
      this.#ledgerDriving = false;
      const progress = this.state.indexProgress();
      if (progress.ledgerComplete) this.#logger.debug({ ledgerHeight: progress.ledgerHeight }, 'balances and histories are up to date');
    };
    setImmediate(step);
  }

  #fatal(error: Error): void {
    if (this.#stopped) return;
    this.#logger.error({ err: error }, 'auditor cannot continue');
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#options.onFatal?.(error);
  }

  /** Resolves once the chain is caught up with the blockchain topic as of now. */
  async caughtUpNow(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#followerStarted) {
      if (Date.now() > deadline) throw new Error('the chain follower did not start in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.follower.catchUp(Math.max(1, deadline - Date.now()));
  }

  /** Ends the live event streams first: open streams would otherwise hold the HTTP drain for its whole grace. */
  beginShutdown(): void {
    this.live.close();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#startup.abort(new Error('the auditor is stopping'));
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.live.close();
    await Promise.allSettled([this.follower.stop(), this.transactions.stop(), this.#checkpoints.stop(), this.#transactionsRead.stop()]);
    await this.#background?.catch(() => undefined);
    await this.publisher?.stop();
    this.#keepBackfillResume();
    await this.state.store.close();
  }
}
