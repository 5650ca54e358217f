// Wiring only: runService reads the config, builds logger, metrics and HTTP, listens, then starts the
// operator; SIGTERM releases the leader Lease, so a stand-by takes over at once.
import { createKafka } from '@chainlog/core/kafka';
import { runService } from '@chainlog/core/service';
import { readConfig, SERVICE_NAME } from './config.js';
import { loadKubeConfig } from './kube/kube.js';
import { createLedgerOperator } from './ledger/service.js';
import { createOperator } from './service.js';

void runService({
  name: SERVICE_NAME,
  readConfig,
  create: ({ config, logger, registry }) => {
    const kubeConfig = loadKubeConfig(config.kube);
    logger.info({ kubernetes: kubeConfig.getCurrentCluster()?.server }, 'kubernetes api');
    // ledgers: the controller of Ledger resources. statefulset: the older matcher of one miner StatefulSet and
    // its topic's partitions, for installations whose chart still renders the workloads.
    return config.mode === 'ledgers'
      ? createLedgerOperator({ config, logger, registry, kubeConfig })
      : createOperator({ config, logger, registry, kubeConfig, kafka: createKafka(config.kafka, logger) });
  },
  describe: (config) => ({
    mode: config.mode,
    namespace: config.namespace,
    ...(config.mode === 'statefulset' ? { statefulSet: config.minerStatefulSet, topic: config.topics.transactions } : {}),
    lease: config.leaseName,
    identity: config.identity,
  }),
  drainMs: () => 5000,
});
