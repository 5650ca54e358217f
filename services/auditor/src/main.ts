// Wiring only: runService reads the config, builds logger, metrics and HTTP, listens, then starts the
// auditor (which follows the chain in the background and reports ready once caught up).
import { runService } from '@chainlog/core/service';
import { readConfig, SERVICE_NAME } from './config.js';
import { AuditorService } from './service.js';

void runService({
  name: SERVICE_NAME,
  readConfig,
  create: ({ config, logger, registry, onFatal }) => new AuditorService(config, logger, { registry, onFatal }),
  describe: (config) => ({ topics: config.topics, consensus: { ...config.consensus, allowedMiners: config.consensus.allowedMiners?.length ?? 'any' } }),
  drainMs: () => 5000,
});
