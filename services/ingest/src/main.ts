// Wiring only: config → logger → Kafka → service → HTTP listen → graceful shutdown.
import { closeServer, createKafka, createLogger, createMetricsRegistry, listen, onShutdownSignal, readConfigOrExit } from '@chainlog/core';
import { readIngestConfig, SERVICE_NAME } from './config.js';
import { createIngestService } from './service.js';

/** Retries of each Kafka operation: a produce request must settle well within a client's patience. */
const KAFKA_RETRIES = 3;

async function main(): Promise<void> {
  const config = readConfigOrExit('chainlog-ingest', readIngestConfig);
  const logger = createLogger(SERVICE_NAME, config.logLevel);
  const registry = createMetricsRegistry(SERVICE_NAME);
  const kafka = createKafka(config.kafka, logger, KAFKA_RETRIES);
  const service = createIngestService({ config, logger, registry, kafka });
  service.start();
  const server = await listen(service.app, config.httpPort, config.httpHost, { headersTimeoutMs: config.headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs });
  const address = server.address();
  logger.info(
    {
      port: typeof address === 'object' && address ? address.port : config.httpPort,
      topic: config.topics.transactions,
      brokers: config.kafka.brokers,
      maxBatchSize: config.maxBatchSize,
      requireSignatures: config.requireSignatures,
    },
    'ingest listening',
  );

  onShutdownSignal(
    logger,
    async () => {
      service.beginShutdown();
      await closeServer(server, config.shutdownGraceMs);
      await service.stop();
      logger.info('ingest stopped');
    },
    config.shutdownGraceMs + 10_000,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`chainlog-ingest: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
