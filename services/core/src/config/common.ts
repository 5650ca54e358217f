// The settings every service shares: Kafka connection, topic names, HTTP port, logging.
import type { EnvReader } from './env.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  ssl?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** Upper bound for connecting and for each request, so an unreachable broker fails fast instead of hanging. */
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
}

export interface TopicNames {
  transactions: string;
  blockchain: string;
  audit: string;
  deadLetter: string;
}

/** The topic names when TOPIC_* are not set. */
export const DEFAULT_TOPIC_NAMES: TopicNames = { transactions: 'transactions', blockchain: 'blockchain', audit: 'audit', deadLetter: 'transactions-dlq' };

export interface CommonConfig {
  kafka: KafkaSettings;
  topics: TopicNames;
  httpPort: number;
  /** Address the HTTP server binds: every interface in a container, 127.0.0.1 under `npm start`. */
  httpHost: string;
  logLevel: LogLevel;
}

// An IPv4/IPv6 literal or a host name: what net.Server#listen takes.
const HTTP_HOST = { regex: /^(?:[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45})$/, description: 'an IP address or host name to bind' };
const TOPIC_NAME = { regex: /^[A-Za-z0-9._-]{1,249}$/, description: 'a Kafka topic name ([A-Za-z0-9._-], 1-249 chars)' };

export function readCommonConfig(env: EnvReader, service: string, defaultHttpPort: number): CommonConfig {
  const brokers = env.list('KAFKA_BROKERS', ['127.0.0.1:9092']);
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) env.problem(`KAFKA_BROKERS must be a comma-separated list of host:port, got "${broker}"`);
  }
  return {
    kafka: {
      brokers,
      clientId: env.string('KAFKA_CLIENT_ID', `chainlog-${service}`),
      ssl: readSsl(env),
      sasl: readSasl(env),
      connectionTimeoutMs: env.integer('KAFKA_CONNECTION_TIMEOUT_MS', 3000, { min: 100, max: 60_000 }),
      requestTimeoutMs: env.integer('KAFKA_REQUEST_TIMEOUT_MS', 10_000, { min: 100, max: 300_000 }),
    },
    topics: {
      transactions: env.string('TOPIC_TRANSACTIONS', DEFAULT_TOPIC_NAMES.transactions, TOPIC_NAME),
      blockchain: env.string('TOPIC_BLOCKCHAIN', DEFAULT_TOPIC_NAMES.blockchain, TOPIC_NAME),
      audit: env.string('TOPIC_AUDIT', DEFAULT_TOPIC_NAMES.audit, TOPIC_NAME),
      deadLetter: env.string('TOPIC_DEAD_LETTER', DEFAULT_TOPIC_NAMES.deadLetter, TOPIC_NAME),
    },
    httpPort: env.integer('HTTP_PORT', defaultHttpPort, { min: 0, max: 65535 }),
    httpHost: env.string('HTTP_HOST', '0.0.0.0', HTTP_HOST),
    logLevel: env.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}

function readSsl(env: EnvReader): KafkaSettings['ssl'] {
  if (!env.boolean('KAFKA_SSL', false)) return undefined;
  return {
    ca: env.secret('KAFKA_SSL_CA'),
    cert: env.secret('KAFKA_SSL_CERT'),
    key: env.secret('KAFKA_SSL_KEY'),
    rejectUnauthorized: env.boolean('KAFKA_SSL_REJECT_UNAUTHORIZED', true),
  };
}

function readSasl(env: EnvReader): KafkaSettings['sasl'] {
  const mechanism = env.optionalString('KAFKA_SASL_MECHANISM');
  if (mechanism === undefined) return undefined;
  const chosen = env.oneOf('KAFKA_SASL_MECHANISM', SASL_MECHANISMS, 'scram-sha-512');
  const username = env.secret('KAFKA_SASL_USERNAME');
  const password = env.secret('KAFKA_SASL_PASSWORD');
  if (username === undefined || password === undefined) {
    env.problem('KAFKA_SASL_MECHANISM is set, so KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or their _FILE forms) are required');
    return undefined;
  }
  return { mechanism: chosen, username, password };
}
