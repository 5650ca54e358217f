import { Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';
import type { KafkaSettings } from '../config/common.js';
import type { Logger } from '../logging/logger.js';
import { stopKafkajsIdlePolling } from './kafkajs-idle-polling.js';

// On load, for every kafkajs client of the thread (services', tests' and the worker threads' alike): an idle
// connection otherwise runs a timer callback per millisecond (kafkajs-idle-polling.ts).
stopKafkajsIdlePolling();

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs logs every failed request ("Response Produce(...)": a coordinator still loading, a leader moving)
 * at error level before its retrier tries again; an operation that finally fails reaches the caller as an
 * exception, which the service logs. So those per-request lines are warnings, and kafkajs' info chatter is debug.
 */
// Transient broker states that kafkajs retries (or restarts a consumer for) after logging them as errors.
const RETRIED_CONDITIONS = ['The coordinator is loading', 'The coordinator is not available', 'This is not the correct coordinator', 'Restarting the consumer'];

export function kafkaLevelToPino(level: number, message: string): 'error' | 'warn' | 'info' | 'debug' {
  const mapped = LEVELS[level] ?? 'debug';
  if (mapped === 'info') return 'debug';
  if (mapped === 'error' && (message.startsWith('Response ') || RETRIED_CONDITIONS.some((text) => message.includes(text)))) return 'warn';
  return mapped;
}

/** Routes kafkajs' own logs into the service's pino logger (levels: kafkaLevelToPino). */
function pinoLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const target = kafkaLevelToPino(level, message);
      kafkaLogger[target](extra, message);
    };
}

/** How each client createKafka made was configured: a worker thread builds its own client from this. */
const CLIENT_SETTINGS = new WeakMap<Kafka, { readonly settings: KafkaSettings; readonly retries: number }>();

/**
 * The settings a client was created with (createKafka), or undefined for a client made otherwise. A kafkajs
 * client cannot cross a thread boundary and does not tell its configuration, so a reader that moves its
 * consumer to a worker thread (the transactions topic's SourceReader) asks here for what to build it from.
 */
export function kafkaClientSettings(kafka: Kafka): { readonly settings: KafkaSettings; readonly retries: number } | undefined {
  return CLIENT_SETTINGS.get(kafka);
}

/**
 * A kafkajs client with bounded connection and request timeouts and a bounded retry budget,
 * so that an unreachable broker surfaces as an error in seconds instead of a hang.
 */
export function createKafka(settings: KafkaSettings, logger: Logger, retries = 5): Kafka {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(logger),
    retry: { retries, initialRetryTime: 100, maxRetryTime: 2000 },
  };
  if (settings.ssl) {
    config.ssl = {
      rejectUnauthorized: settings.ssl.rejectUnauthorized,
      ...(settings.ssl.ca ? { ca: [settings.ssl.ca] } : {}),
      ...(settings.ssl.cert ? { cert: settings.ssl.cert } : {}),
      ...(settings.ssl.key ? { key: settings.ssl.key } : {}),
    };
  }
  if (settings.sasl) {
    const { mechanism, username, password } = settings.sasl;
    // kafkajs types each mechanism separately, so the union has to be narrowed case by case.
    switch (mechanism) {
      case 'plain':
        config.sasl = { mechanism, username, password };
        break;
      case 'scram-sha-256':
        config.sasl = { mechanism, username, password };
        break;
      case 'scram-sha-512':
        config.sasl = { mechanism, username, password };
        break;
    }
  }
  const kafka = new Kafka(config);
  CLIENT_SETTINGS.set(kafka, { settings, retries });
  return kafka;
}
