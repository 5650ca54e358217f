import type { Admin } from 'kafkajs';
import type { TopicNames } from '../config/common.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
}

export interface ChainlogTopicOptions {
  /** Partitions of the transactions topic (one miner per partition). */
  readonly transactionsPartitions: number;
  /** -1 (the default): the broker's default.replication.factor. */
  readonly replicationFactor?: number;
  /** Only these of the four topics (default: all). */
  readonly only?: readonly (keyof TopicNames)[];
}

/**
 * The topics every Chainlog deployment needs: transactions (N partitions), blockchain, audit and the
 * dead-letter topic (one partition each). The one definition of them, for every service or tool that
 * creates topics (the chart's provisioning job, a miner or an auditor finding them missing, npm start).
 */
export function chainlogTopics(topics: TopicNames, options: ChainlogTopicOptions): TopicSpec[] {
  const replicationFactor = options.replicationFactor ?? -1;
  const all: Record<keyof TopicNames, TopicSpec> = {
    transactions: { topic: topics.transactions, partitions: options.transactionsPartitions, replicationFactor },
    blockchain: { topic: topics.blockchain, partitions: 1, replicationFactor },
    audit: { topic: topics.audit, partitions: 1, replicationFactor },
    deadLetter: { topic: topics.deadLetter, partitions: 1, replicationFactor },
  };
  const which = options.only ?? (Object.keys(all) as (keyof TopicNames)[]);
  return which.map((name) => all[name]);
}

// The ledger and the offsets its blocks refer to must never expire.
const LEDGER_TOPIC_CONFIG = [
  { name: 'retention.ms', value: '-1' },
  { name: 'retention.bytes', value: '-1' },
];

/**
 * Creates missing topics and grows partition counts that are below the spec. Partitions are never
 * decreased: Kafka cannot, and the chain's source ranges refer to existing partitions.
 * Returns what it changed.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<string[]> {
  const changes: string[] = [];
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor ?? -1,
        configEntries: LEDGER_TOPIC_CONFIG,
      })),
    });
    changes.push(...missing.map((spec) => `created ${spec.topic} with ${spec.partitions} partition(s)`));
  }
  const present = specs.filter((spec) => existing.has(spec.topic));
  if (present.length === 0) return changes;
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((spec) => spec.topic) });
  for (const spec of present) {
    const current = metadata.topics.find((topic) => topic.name === spec.topic)?.partitions.length ?? 0;
    if (current < spec.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic: spec.topic, count: spec.partitions }] });
      changes.push(`grew ${spec.topic} from ${current} to ${spec.partitions} partitions`);
    }
  }
  return changes;
}

/** The topic's partition count, or undefined when the topic does not exist. */
export async function partitionCount(admin: Admin, topic: string): Promise<number | undefined> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) return undefined;
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length;
}
