import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../logging/logger.js';
import { isMisconfiguration, withAdminRetries, type WaitForKafkaOptions } from './wait-for-kafka.js';

/** Cancellation and backoff, as for waitForKafka (which can give up; provisioning waits until stopped). */
export type ProvisionTopicsOptions = Omit<WaitForKafkaOptions, 'timeoutMs'>;

// Broker answers that a later attempt can get past without anyone changing the service's configuration:
// - no CREATE or DESCRIBE grant yet: with ACLs a service may not create topics; the chart's topics Job or the
//   operator creates them and applies the grants, possibly after the service has started (a fresh install);
// - a controller or broker that is starting, moving or not yet serving the new topic.
const TRANSIENT = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'NOT_CONTROLLER',
  'REQUEST_TIMED_OUT',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'INVALID_REPLICATION_FACTOR',
  'BROKER_NOT_AVAILABLE',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  // Another replica created the topic first (kafkajs passes this only when it is every topic's answer).
  'TOPIC_ALREADY_EXISTS',
]);

// kafkajs' own client-side failures to reach a broker.
const TRANSIENT_CLIENT_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
]);

interface BrokerProblem {
  readonly topic?: string;
  readonly type?: string;
}

/**
 * Each broker error code in a failure, with its topic when the broker named one: kafkajs reports a CreateTopics
 * answer as one "Topic creation errors" whose per-topic codes are only in `errors`, and wraps retried failures.
 */
export function brokerProblems(error: unknown): BrokerProblem[] {
  const seen = new Set<unknown>();
  const found: BrokerProblem[] = [];
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    const { type, topic, errors, cause, originalError } = value as { type?: unknown; topic?: unknown; errors?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof type === 'string') found.push({ ...(typeof topic === 'string' ? { topic } : {}), type });
    if (Array.isArray(errors)) errors.forEach(visit);
    visit(cause);
    visit(originalError);
  };
  visit(error);
  return found;
}

/** The failure in one line, naming every broker error code and topic (`audit: TOPIC_AUTHORIZATION_FAILED`). */
export function describeTopicFailure(error: unknown): string {
  const problems = brokerProblems(error).map((problem) => (problem.topic === undefined ? problem.type : `${problem.topic}: ${problem.type}`));
  const message = error instanceof Error ? error.message : String(error);
  return problems.length === 0 ? message : `${message} (${[...new Set(problems)].join(', ')})`;
}

/** Whether waiting can get past this failure (see TRANSIENT); a misconfiguration or an invalid topic cannot. */
export function isTransientTopicFailure(error: unknown): boolean {
  if (isMisconfiguration(error)) return false;
  const problems = brokerProblems(error);
  if (problems.length > 0) return problems.every((problem) => problem.type !== undefined && TRANSIENT.has(problem.type));
  return error instanceof Error && TRANSIENT_CLIENT_ERRORS.has(error.name);
}

/**
 * Runs `ensure` (create or grow the service's topics) with an admin client until it succeeds. While the broker
 * cannot let it yet (above) the service waits with backoff, logging each attempt with the broker's error codes,
 * and stays not ready, instead of exiting into a restart loop; anything else fails the start with those codes.
 */
export async function provisionTopics(kafka: Kafka, logger: Logger, ensure: (admin: Admin) => Promise<void>, options: ProvisionTopicsOptions = {}): Promise<void> {
  await withAdminRetries(
    kafka,
    async (admin, attempt, waitedMs) => {
      await ensure(admin);
      if (attempt > 0) logger.info({ attempts: attempt + 1, waitedMs }, 'topics provisioned');
    },
    ({ error, attempt, waitedMs, retryInMs }) => {
      const problem = describeTopicFailure(error);
      if (!isTransientTopicFailure(error)) throw new Error(`provisioning the topics failed: ${problem}`, { cause: error });
      logger.warn({ attempt: attempt + 1, retryInMs, waitedMs, problem }, 'topics cannot be provisioned yet; waiting (with ACLs the topics Job or the operator creates them)');
    },
    options,
  );
}
