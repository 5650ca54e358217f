import type { Admin } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
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
