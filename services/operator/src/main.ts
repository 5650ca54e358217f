// Wiring only: config → logger → Kubernetes and Kafka clients → operator → HTTP listen → graceful shutdown
// (which releases the leader Lease, so a stand-by takes over at once).
import { readConfigOrExit } from '@chainlog/core/config';
import { closeServer, listen } from '@chainlog/core/http';
import { createKafka } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import { createMetricsRegistry } from '@chainlog/core/metrics';
import { onShutdownSignal } from '@chainlog/core/service';
import { loadKubeConfig } from './kube/kube.js';
import { readConfig, SERVICE_NAME } from './config.js';
import { createLedgerOperator } from './ledger/service.js';
import { createOperator } from './service.js';

async function main(): Promise<void> {
  const config = readConfigOrExit('chainlog-operator', readConfig);
  const logger = createLogger(SERVICE_NAME, config.logLevel);
  const registry = createMetricsRegistry(SERVICE_NAME);
  const kubeConfig = loadKubeConfig(config.kube);
  // Ledgers: the controller of Ledger resources (the chart's default). statefulset: the older matcher of one
  // miner StatefulSet and its topic's partitions, for installations that still render their own workloads.
  const operator =
    config.mode === 'ledgers'
      ? createLedgerOperator({ config, logger, registry, kubeConfig })
      : createOperator({ config, logger, registry, kubeConfig, kafka: createKafka(config.kafka, logger) });
  const server = await listen(operator.app, config.httpPort);
  const address = server.address();
  logger.info(
    {
      port: typeof address === 'object' && address ? address.port : config.httpPort,
      mode: config.mode,
      namespace: config.namespace,
      ...(config.mode === 'statefulset' ? { statefulSet: config.minerStatefulSet, topic: config.topics.transactions } : {}),
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
