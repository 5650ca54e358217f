// Wiring only: runService reads the config, builds logger, metrics and HTTP, listens, then starts the
// operator; SIGTERM releases the leader Lease, so a stand-by takes over at once.
import { createKafka } from '@chainlog/core/kafka';
import { runService } from '@chainlog/core/service';
import { readConfig, SERVICE_NAME } from './config.js';
import { loadKubeConfig } from './kube/kube.js';
import { createOperator } from './service.js';

void runService({
  name: SERVICE_NAME,
  readConfig,
  create: ({ config, logger, registry }) => {
    const kubeConfig = loadKubeConfig(config.kube);
    logger.info({ kubernetes: kubeConfig.getCurrentCluster()?.server }, 'kubernetes api');
    return createOperator({ config, logger, registry, kubeConfig, kafka: createKafka(config.kafka, logger) });
  },
  describe: (config) => ({
    namespace: config.namespace,
    statefulSet: config.minerStatefulSet,
    topic: config.topics.transactions,
    lease: config.leaseName,
    identity: config.identity,
  }),
  drainMs: () => 5000,
});
