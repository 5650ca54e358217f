// The auditor's entry point: configuration, logger, signals. Everything else is in service.ts.
import { readConfigOrExit } from '@chainlog/core/config';
import { createLogger } from '@chainlog/core/logging';
import { onShutdownSignal } from '@chainlog/core/service';
import { readConfig, SERVICE_NAME } from './config.js';
import { AuditorService } from './service.js';

const config = readConfigOrExit('chainlog-auditor', readConfig);

const logger = createLogger(SERVICE_NAME, config.logLevel);
const service = new AuditorService(config, logger, {
  onFatal: () => {
    void service.stop().finally(() => process.exit(1));
  },
});
onShutdownSignal(logger, () => service.stop());
try {
  await service.start();
  logger.info(
    { topics: config.topics, consensus: { ...config.consensus, allowedMiners: config.consensus.allowedMiners?.length ?? 'any' } },
    'auditor started',
  );
} catch (error) {
  logger.fatal({ err: error }, 'auditor failed to start');
  await service.stop().catch(() => undefined);
  process.exit(1);
}
