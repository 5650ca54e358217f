// Wiring only: runService reads the config, builds logger, metrics and HTTP, listens, then starts the miner.
import { runService } from '@chainlog/core/service';
import { readConfig, SERVICE_NAME } from './config.js';
import { MinerService } from './service.js';

void runService({
  name: SERVICE_NAME,
  readConfig,
  // On a fatal error Kubernetes restarts the pod; the chain tells the new process where to resume.
  create: ({ config, logger, registry, onFatal }) => new MinerService({ config, logger, registry, onFatal }),
});
