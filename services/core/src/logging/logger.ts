import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/common.js';

export type { Logger };

/** JSON logs on stdout; secrets are redacted wherever they appear in a logged object. */
export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  return pino({
    name: `chainlog-${service}`,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['*.password', '*.sasl', '*.key', '*.privateKey', 'kafka.sasl', 'kafka.ssl.key', 'config.kafka.sasl', 'config.kafka.ssl.key', 'config.minerPrivateKey', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
