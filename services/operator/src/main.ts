// Wiring only: config → logger → Kubernetes and Kafka clients → operator → HTTP listen → graceful shutdown
// (which releases the leader Lease, so a stand-by takes over at once).
import { closeServer, createKafka, createLogger, createMetricsRegistry, listen, onShutdownSignal, readConfigOrExit } from '@chainlog/core';
import { loadKubeConfig } from './adapters/kube.js';
import { readOperatorConfig, SERVICE_NAME } from './config.js';
import { createOperator } from './operator.js';

async function main(): Promise<void> {
  const config = readConfigOrExit('chainlog-operator', readOperatorConfig);
  const logger = createLogger(SERVICE_NAME, config.logLevel);
  const registry = createMetricsRegistry(SERVICE_NAME);
  const kubeConfig = loadKubeConfig(config.kube);
  const kafka = createKafka(config.kafka, logger);
  const operator = createOperator({ config, logger, registry, kubeConfig, kafka });
  const server = await listen(operator.app, config.httpPort, config.httpHost);
  const address = server.address();
  logger.info(
    {
      port: typeof address === 'object' && address ? address.port : config.httpPort,
      namespace: config.namespace,
      statefulSet: config.minerStatefulSet,
      topic: config.topics.transactions,
      lease: config.leaseName,
      identity: config.identity,
      kubernetes: kubeConfig.getCurrentCluster()?.server,
    },
    'operator listening',
  );
  operator.start();

  onShutdownSignal(logger, async () => {
    await operator.stop({ releaseLease: true });
    await closeServer(server, 5000);
    logger.info('operator stopped');
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`chainlog-operator: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
