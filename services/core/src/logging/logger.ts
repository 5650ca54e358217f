import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/common.js';

export type { Logger };

/**
 * JSON logs on stdout; secrets are redacted wherever they appear in a logged object. Written synchronously:
 * pino's default asynchronous stdout can leave a line's write in flight while later lines are flushed at
 * exit, so a shutdown's lines came out of order (the line written first appearing last) on a loaded machine.
 */
export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  return pino(
    {
      name: `chainlog-${service}`,
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['*.password', '*.sasl', '*.key', '*.privateKey', 'kafka.sasl', 'kafka.ssl.key', 'config.kafka.sasl', 'config.kafka.ssl.key', 'config.minerPrivateKey', 'req.headers.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 1, sync: true }),
  );
}
