// Creates Chainlog's topics when they are missing and grows the transactions topic's partitions when the
// requested count went up. Run once per `helm install` / `helm upgrade` by the chart's topic-provisioning
// hook Job (`node services/operator/dist/provision-topics.js`), or by hand against any Kafka.
// Exit codes: 0 done (nothing to do counts as done), 1 Kafka failed, 2 invalid configuration.
import type { Admin } from 'kafkajs';
import { type CommonConfig, ConfigError, EnvReader, type LogLevel, readCheckpointConfig, readCommonConfig } from '@chainlog/core/config';
import { chainlogTopics, checkpointTopicSpec, createKafka, ensureTopics, type TopicSpec } from '@chainlog/core/kafka';
import { createLogger, type Logger } from '@chainlog/core/logging';
import { isEntryPoint, runAsProgram } from './entry-point.js';
import { applyServiceAcls } from './kafka/acls.js';

export const SERVICE_NAME = 'provision-topics';

export const NEVER_DECREASE =
  'partitions never decrease: Kafka cannot remove partitions and blocks refer to them';

export interface ProvisionConfig {
  common: CommonConfig;
  /** Partitions of the transactions topic (one miner per partition). */
  transactionsPartitions: number;
  /** -1 means the broker's default.replication.factor. */
  replicationFactor: number;
  /** The compacted checkpoint topic (TOPIC_CHECKPOINTS), created here because a miner may lack the ACL to. */
  checkpointsTopic: string;
  /**
   * Also apply the services' least-privilege ACLs (kafka/acls.ts; needs an administrator's connection), granting
   * the miners this consumer group.
   */
  acls?: { minerGroup: string };
}

const GROUP_ID = { regex: /^[A-Za-z0-9._-]{1,249}$/, description: 'a consumer group id ([A-Za-z0-9._-], 1-249 chars)' };

export function readProvisionConfig(env: EnvReader): ProvisionConfig {
  const common = readCommonConfig(env, SERVICE_NAME, 0);
  const transactionsPartitions = env.integer('TRANSACTIONS_PARTITIONS', 2, { min: 1, max: 10_000 });
  const replicationFactor = env.integer('TOPIC_REPLICATION_FACTOR', -1, { min: -1, max: 32_767 });
  if (replicationFactor === 0) env.problem('TOPIC_REPLICATION_FACTOR must be -1 (the broker default) or at least 1, got "0"');
  const checkpointsTopic = readCheckpointConfig(env).topic;
  const applyAcls = env.boolean('KAFKA_APPLY_ACLS', false);
  const minerGroup = env.string('MINER_GROUP_ID', 'chainlog-miners', GROUP_ID);
  env.done();
  return { common, transactionsPartitions, replicationFactor, checkpointsTopic, ...(applyAcls ? { acls: { minerGroup } } : {}) };
}

/**
 * The topics every Chainlog deployment needs: transactions (N partitions), the rest single-partition, and the
 * compacted checkpoint topic (always: a replay window switched on later then needs no topic made by a service).
 */
export function topicSpecs(config: ProvisionConfig): TopicSpec[] {
  return [
    ...chainlogTopics(config.common.topics, { transactionsPartitions: config.transactionsPartitions, replicationFactor: config.replicationFactor }),
    checkpointTopicSpec(config.checkpointsTopic, config.replicationFactor),
  ];
}

export interface ProvisionResult {
  /** What changed, as ensureTopics reports it ("created ...", "grew ..."). */
  changes: string[];
  /** Topics whose existing partition count is above the requested one; left as they are. */
  kept: { topic: string; requested: number; existing: number }[];
  /** Partition count of every topic after provisioning. */
  partitions: Record<string, number>;
}

async function partitionCounts(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const present = new Set(await admin.listTopics());
  const wanted = topics.filter((topic) => present.has(topic));
  const counts = new Map<string, number>();
  if (wanted.length === 0) return counts;
  const metadata = await admin.fetchTopicMetadata({ topics: wanted });
  for (const topic of metadata.topics) counts.set(topic.name, topic.partitions.length);
  return counts;
}

/** Ensures the topics exist with at least the requested partitions, logging every decision. */
export async function provisionTopics(admin: Admin, config: ProvisionConfig, logger: Logger): Promise<ProvisionResult> {
  const specs = topicSpecs(config);
  const names = specs.map((spec) => spec.topic);
  const before = await partitionCounts(admin, names);

  const kept: ProvisionResult['kept'] = [];
  for (const spec of specs) {
    const existing = before.get(spec.topic);
    if (existing !== undefined && existing > spec.partitions) {
      kept.push({ topic: spec.topic, requested: spec.partitions, existing });
      logger.warn(
        { topic: spec.topic, requestedPartitions: spec.partitions, existingPartitions: existing },
        `${spec.topic} keeps its ${existing} partitions although ${spec.partitions} were requested: ${NEVER_DECREASE}. ` +
          'Miners then own several partitions each; to really shrink, create a new ledger with new topic names.',
      );
    }
  }

  const changes = await ensureTopics(admin, specs);
  for (const change of changes) logger.info({ change }, change);

  const after = await partitionCounts(admin, names);
  const partitions = Object.fromEntries(names.map((name) => [name, after.get(name) ?? 0]));
  logger.info(
    { partitions, changed: changes.length, replicationFactor: config.replicationFactor },
    changes.length === 0 ? 'topics already provisioned, nothing to do' : `topics provisioned (${changes.length} change(s))`,
  );
  return { changes, kept, partitions };
}

/** Reads the environment, provisions the topics and returns the process exit code. */
export async function run(
  env: Record<string, string | undefined> = process.env,
  makeLogger: (level: LogLevel) => Logger = (level) => createLogger(SERVICE_NAME, level),
): Promise<number> {
  let config: ProvisionConfig;
  try {
    config = readProvisionConfig(new EnvReader(env));
  } catch (error) {
    const logger = makeLogger('info');
    if (error instanceof ConfigError) {
      logger.error({ problems: error.problems }, error.message);
      return 2;
    }
    logger.error({ err: error }, 'could not read the configuration');
    return 2;
  }
  const logger = makeLogger(config.common.logLevel);
  const { kafka: settings } = config.common;
  logger.info(
    {
      brokers: settings.brokers,
      ssl: settings.ssl !== undefined,
      sasl: settings.sasl?.mechanism ?? false,
      topics: config.common.topics,
      transactionsPartitions: config.transactionsPartitions,
      replicationFactor: config.replicationFactor,
    },
    'provisioning topics',
  );
  const admin = createKafka(settings, logger).admin();
  try {
    await admin.connect();
    await provisionTopics(admin, config, logger);
    if (config.acls !== undefined) {
      const count = await applyServiceAcls(admin, { ...config.common.topics, checkpoints: config.checkpointsTopic }, undefined, config.acls.minerGroup);
      logger.info({ acls: count, minerGroup: config.acls.minerGroup }, `applied ${count} service ACLs`);
    }
    return 0;
  } catch (error) {
    logger.error({ err: error }, 'topic provisioning failed');
    return 1;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

if (isEntryPoint(import.meta.url)) runAsProgram(() => run());
