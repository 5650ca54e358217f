// Wiring only: configuration, logger, metrics, the miner service, HTTP, and signals.
import { closeServer, createLogger, createMetricsRegistry, onShutdownSignal, readConfigOrExit } from '@chainlog/core';
import { readMinerConfig, SERVICE_NAME } from './config.js';
import { startMinerHttp } from './adapters/http.js';
import { MinerService } from './miner.js';

async function main(): Promise<void> {
  const config = readConfigOrExit('chainlog-miner', readMinerConfig);
  const logger = createLogger(SERVICE_NAME, config.logLevel);
  const registry = createMetricsRegistry(SERVICE_NAME);
  const miner = new MinerService({
    config,
    logger,
    registry,
    onFatal: () => {
      // Kubernetes restarts the pod; the chain tells the new process where to resume.
      void stop().finally(() => process.exit(1));
    },
  });
  // HTTP first, so /healthz answers (and /readyz says not-ready) during a long catch-up with the chain.
  const server = await startMinerHttp({ port: config.httpPort, host: config.httpHost, logger, registry, readiness: () => miner.readiness(), status: () => miner.status() });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await miner.stop();
      await closeServer(server);
    })());
  onShutdownSignal(logger, stop);
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address !== null ? address.port : config.httpPort }, 'http listening');
  await miner.start();
}

main().catch((error: unknown) => {
  console.error('chainlog-miner failed to start:', error);
  process.exit(1);
});
