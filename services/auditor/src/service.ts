/**
 * Wires the auditor: the chain follower (blockchain topic → AuditorState), the transactions follower
 * (pending transactions), the audit publisher, metrics and the HTTP API. main.ts hands it to runService;
 * tests create the service directly and listen on its app.
 */
import { createHttpApp } from '@chainlog/core/http';
import { ChainFollower, chainlogTopics, createKafka, ensureTopics, waitForKafka } from '@chainlog/core/kafka';
import { loggedTransactionIds, type Logger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { COINBASE_SENDER } from '@chainlog/core/protocol';
import type { SourceWait } from '@chainlog/core/kafka';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { Kafka } from 'kafkajs';
import { SERVICE_NAME, type AuditorConfig } from './config.js';
import { AuditorState } from './domain/auditor-state.js';
import { buildOpenApiDocument } from './http/openapi.js';
import { registerAuditorHttp } from './http/app.js';
import { LiveStream } from './http/live-stream.js';
import { liveView } from './domain/live-stats.js';
import { auditEvent, coverageAnomalyEvent } from './kafka/audit-event.js';
import { AuditPublisher } from './kafka/audit-publisher.js';
import { readAuditWatermark } from './kafka/audit-watermark.js';
import { TransactionsFollower } from './kafka/transactions-follower.js';
import { waitForTopic } from './kafka/wait-for-topic.js';
import { createAuditorMetrics, type AuditorMetrics } from './metrics.js';

/** How long a block may wait on records past a partition's end before the auditor reports an anomaly. */
const COVERAGE_ANOMALY_AFTER_MS = 1000;

export interface AuditorServiceOptions {
  /** Called when a follower fails for good; main.ts exits so the orchestrator restarts the auditor. */
  readonly onFatal?: (error: Error) => void;
  readonly topicPollIntervalMs?: number;
  /** Defaults to a new registry for the auditor. */
  readonly registry?: Registry;
}

export class AuditorService {
  readonly state: AuditorState;
  readonly registry: Registry;
  readonly app: Express;
  readonly follower: ChainFollower;
  readonly transactions: TransactionsFollower;
  readonly publisher: AuditPublisher | undefined;
  readonly live: LiveStream;
  /** Whether `/` serves the explorer (enabled and built). */
  readonly explorerServed: boolean;
  readonly #config: AuditorConfig;
  readonly #logger: Logger;
  readonly #options: AuditorServiceOptions;
  readonly #kafka: Kafka;
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

  constructor(config: AuditorConfig, logger: Logger, options: AuditorServiceOptions = {}) {
    this.#config = config;
    this.#logger = logger;
    this.#options = options;
    const kafka = createKafka(config.kafka, logger);
    this.#kafka = kafka;
    this.state = new AuditorState({
      params: config.consensus,
      transactionsTopic: config.topics.transactions,
      recentLimit: config.recentLimit,
      blockCacheBytes: config.blockCacheBytes,
      pendingTrackLimit: config.pendingTrackLimit,
    });
    this.registry = options.registry ?? createMetricsRegistry(SERVICE_NAME);
    const metrics = createAuditorMetrics(this.registry, this.state, () => ({ caughtUp: this.caughtUp }));
    this.#metrics = metrics;

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
      onAccepted: (block, offset, bytes) => {
        const outcome = this.state.accept(block, offset, bytes);
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
      },
      onRejected: (rejection) => {
        const outcome = this.state.reject(rejection);
        metrics.blockRejected(outcome);
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

    const { app, finish } = createHttpApp({ logger, registry: this.registry, readiness: () => this.readiness() });
    this.live = new LiveStream({ snapshot: () => liveView(this.state, this.caughtUp, Date.now()), maxClients: config.liveStreamLimit });
    this.explorerServed = registerAuditorHttp(app, {
      api: {
        state: this.state,
        openapi: buildOpenApiDocument(),
        progress: () => ({ caughtUp: this.caughtUp, appliedOffset: this.follower.appliedOffset }),
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
    const detail = {
      height: this.state.index.height,
      appliedOffset: this.follower.appliedOffset,
      blockchain: !this.#followerStarted ? 'waiting-for-topic' : this.follower.caughtUp ? 'caught-up' : 'catching-up',
      transactions: this.transactions.state,
      ...(failure === undefined ? {} : { failure: failure.message }),
    };
    return { ready: this.caughtUp && failure === undefined, detail };
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
    this.state.recordAnomaly({ offset, claimedIndex, claimedMiner, partition, claimedThrough: through, detail });
    this.#metrics.coverageAnomaly();
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
      const admin = this.#kafka.admin();
      await admin.connect();
      try {
        const changes = await ensureTopics(admin, chainlogTopics(topics, { transactionsPartitions: 1, only: ['audit'] }));
        for (const change of changes) this.#logger.info(change);
      } finally {
        await admin.disconnect();
      }
      this.#watermark = await readAuditWatermark(this.#kafka, topics.audit, topics.blockchain, this.#logger);
      await this.publisher.start();
    }
    this.transactions.start();
    this.#background = this.#startFollower().catch((error: unknown) => this.#fatal(error as Error));
    this.#watchdog = setInterval(() => {
      const failure = this.follower.failure ?? this.transactions.failure;
      if (failure !== undefined) this.#fatal(failure);
    }, 1000);
    this.#watchdog.unref();
  }

  async #startFollower(): Promise<void> {
    const exists = await waitForTopic(this.#kafka, this.#config.topics.blockchain, this.#logger, {
      stopped: () => this.#stopped,
      ...(this.#options.topicPollIntervalMs === undefined ? {} : { intervalMs: this.#options.topicPollIntervalMs }),
    });
    if (!exists || this.#stopped) return;
    const started = Date.now();
    await this.follower.start();
    this.#followerStarted = true;
    await this.follower.catchUp(24 * 3600_000);
    this.#replayed = true;
    this.#logger.info(
      { height: this.state.index.height, rejected: this.state.audit.rejectedCount, ms: Date.now() - started },
      'caught up with the blockchain topic',
    );
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
    await Promise.allSettled([this.follower.stop(), this.transactions.stop()]);
    await this.#background?.catch(() => undefined);
    await this.publisher?.stop();
  }
}
