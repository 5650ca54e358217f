// Assembles the ingest service from its parts: topic metadata watcher, Kafka appender, HTTP app.
// main.ts wires it to the real environment; tests build it in-process against the real broker.
import { randomUUID } from 'node:crypto';
import { bearerAuth, createHttpApp, type Readiness } from '@chainlog/core/http';
import type { Logger } from '@chainlog/core/logging';
import type { Express } from 'express';
import { Partitioners, type Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { IngestConfig } from './config.js';
import { IdempotencyRegistry } from './domain/idempotency.js';
import { ClientFairness } from './http/fairness.js';
import { buildOpenApiDocument } from './http/openapi.js';
import { transactionRoutes, type TransactionLog } from './http/routes.js';
import { KafkaAppender } from './kafka/appender.js';
import { MiningBacklogWatcher } from './kafka/mining-backlog-watcher.js';
import { TopicWatcher } from './kafka/topic-watcher.js';
import { createIngestMetrics } from './metrics.js';

export interface IngestServiceOptions {
  config: IngestConfig;
  logger: Logger;
  registry: Registry;
  kafka: Kafka;
  clock?: () => number;
  newId?: () => string;
}

export interface IngestService {
  app: Express;
  appender: KafkaAppender;
  topic: TopicWatcher;
  /** Present with a replay window and MINING_BACKLOG_LIMIT_MS > 0. */
  miningBacklog: MiningBacklogWatcher | undefined;
  readiness(): Readiness;
  /** Connects to Kafka (retrying in the background) and starts watching the topic. */
  start(): void;
  /** From now on new requests get 503 and readiness fails; in-flight requests go on. */
  beginShutdown(): void;
  /** Flushes and disconnects the producer and the metadata client. Call after the HTTP server closed. */
  stop(): Promise<void>;
}

export function createIngestService(options: IngestServiceOptions): IngestService {
  const { config, logger, registry, kafka } = options;
  // The closure reads topic and appender at scrape time, after both exist.
  const metrics = createIngestMetrics(registry, {
    kafkaAvailable: () => topic.state().available && appender.status().connected,
    backloggedPartitions: () => miningBacklog?.backlogged().length ?? 0,
  });
  const limitMs = config.miningBacklogLimitMs;
  const miningBacklog =
    limitMs === undefined
      ? undefined
      : new MiningBacklogWatcher({
          kafka,
          topic: config.topics.transactions,
          groupId: config.minerGroupId,
          limitMs,
          // A tenth of the limit (at most 5 s, at least 250 ms): the view is never much older than the backlog it reports.
          refreshMs: Math.min(5000, Math.max(250, Math.floor(limitMs / 10))),
          logger: logger.child({ component: 'mining-backlog' }),
        });
  const topic = new TopicWatcher({
    kafka,
    topic: config.topics.transactions,
    refreshMs: config.metadataRefreshMs,
    logger,
    onPartitions: (count) => metrics.partitions.set(count),
  });
  const appender = new KafkaAppender({
    // The partition is computed per message (domain/partitioning.ts); naming the partitioner only
    // silences kafkajs' warning about its v2 default. Retries are bounded (createKafka's budget) so that a
    // send settles; kafkajs warns that this may break idempotence, which the appender addresses by never
    // reusing a producer whose send failed.
    createProducer: () =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      }),
    topic: config.topics.transactions,
    timeoutMs: config.produceTimeoutMs,
    logger,
    produceDuration: metrics.produceDuration,
  });
  const log: TransactionLog = {
    partitionCount: () => topic.partitionCount(),
    append: (messages) => appender.append(messages),
  };

  let shuttingDown = false;
  const readiness = (): Readiness => {
    const topicState = topic.state();
    const producer = appender.status();
    const detail = { topic: config.topics.transactions, partitions: topicState.partitions };
    if (shuttingDown) return { ready: false, detail: { ...detail, reason: 'shutting down' } };
    if (!topicState.available) return { ready: false, detail: { ...detail, reason: topicState.reason } };
    if (!producer.connected) return { ready: false, detail: { ...detail, reason: producer.reason } };
    return { ready: true, detail };
  };

  const { app, finish } = createHttpApp({ logger, registry, readiness });
  // Health, readiness and metrics stay open; the API needs a token when AUTH_TOKENS is set.
  if (config.authTokens !== undefined) app.use(bearerAuth(config.authTokens, 'chainlog-ingest'));
  const openApi = buildOpenApiDocument({ maxBatchSize: config.maxBatchSize, maxBodyBytes: config.maxBodyBytes });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use(
    transactionRoutes({
      config,
      log,
      ...(miningBacklog === undefined ? {} : { miningBacklog }),
      metrics,
      clock: options.clock ?? Date.now,
      fairness: new ClientFairness({
        ratePerSecond: config.rateLimitPerSecond,
        burst: config.rateLimitBurst,
        maxInflightPerClient: config.maxInflightPerClient,
        clock: Date.now,
      }),
      kafkaUnavailable: () => {
        const topicState = topic.state();
        if (!topicState.available) return topicState.reason;
        const producer = appender.status();
        return producer.connected ? undefined : producer.reason;
      },
      idempotency: new IdempotencyRegistry({ maxEntries: config.idempotencyMaxEntries, ttlMs: config.idempotencyTtlMs, clock: Date.now }),
      newId: options.newId ?? randomUUID,
      isShuttingDown: () => shuttingDown,
    }),
  );
  finish();

  return {
    app,
    appender,
    topic,
    miningBacklog,
    readiness,
    start() {
      topic.start();
      appender.start();
      miningBacklog?.start();
    },
    beginShutdown() {
      shuttingDown = true;
    },
    async stop() {
      shuttingDown = true;
      await appender.stop();
      await topic.stop();
      await miningBacklog?.stop();
    },
  };
}
