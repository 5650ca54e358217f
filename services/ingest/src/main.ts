// Wiring only: runService reads the config, builds logger, metrics and HTTP, listens and drains on SIGTERM.
import { createKafka } from '@chainlog/core/kafka';
import { runService } from '@chainlog/core/service';
import { readConfig, SERVICE_NAME } from './config.js';
import { createIngestService } from './service.js';

/** Retries of each Kafka operation: a produce request must settle well within a client's patience. */
const KAFKA_RETRIES = 3;

void runService({
  name: SERVICE_NAME,
  readConfig,
  create: ({ config, logger, registry }) => createIngestService({ config, logger, registry, kafka: createKafka(config.kafka, logger, KAFKA_RETRIES) }),
  describe: (config) => ({
    topic: config.topics.transactions,
    brokers: config.kafka.brokers,
    maxBatchSize: config.maxBatchSize,
    requireTransactionSignatures: config.requireTransactionSignatures,
    replayWindowMs: config.replayWindowMs ?? 'none',
    ...(config.replayWindowMs === undefined
      ? {}
      : { timestampToleranceMs: config.timestampToleranceMs, miningBacklogLimitMs: config.miningBacklogLimitMs ?? 'off', minerGroupId: config.minerGroupId }),
  }),
  requestTimeouts: (config) => ({ headersTimeoutMs: config.headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs }),
  drainMs: (config) => config.shutdownGraceMs,
  shutdownMs: (config) => config.shutdownGraceMs + 10_000,
});
