import type { Admin } from 'kafkajs';
import type { TopicNames } from '../config/common.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Copies of each partition; absent or -1: chosen from the cluster's size (replicationFor). */
  replicationFactor?: number;
  /** Extra topic configuration set at creation (e.g. max.message.bytes); retention is always infinite. */
  config?: Readonly<Record<string, string>>;
}

export interface Replication {
  /** -1: the broker's default.replication.factor. */
  replicationFactor: number;
  /** Set on the topic when present; otherwise the broker's min.insync.replicas applies. */
  minInsyncReplicas?: number;
}

/**
 * How many copies a new topic gets. From three brokers on: three copies, and with acks=all (every Chainlog
 * producer) a write is acknowledged only once two of them have it, so losing any one broker loses no
 * acknowledged transaction and still accepts writes. Below three: the broker default (one copy on a single
 * development broker). An explicit factor is kept; with three or more copies it gets min.insync.replicas=2 too.
 */
export function replicationFor(brokerCount: number, requested = -1): Replication {
  const replicationFactor = requested > 0 ? requested : brokerCount >= 3 ? 3 : -1;
  return replicationFactor >= 3 ? { replicationFactor, minInsyncReplicas: 2 } : { replicationFactor };
}

export interface ChainlogTopicOptions {
  /** Partitions of the transactions topic (one miner per partition). */
  readonly transactionsPartitions: number;
  /** -1 (the default): from the cluster's size (replicationFor: 3 with min.insync.replicas=2 from three brokers on). */
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

/**
 * The checkpoint topic (docs/protocol.md §5.1): one partition, compacted, so it holds each writer's latest
 * checkpoint rather than a history; a part (up to 512 KiB) fits one record batch. The one definition, for the
 * readers that create it when missing (miners) and for whatever provisions topics (the chart's Job, the operator,
 * Compose's topic-init): with ACLs a miner may not create topics, so the provisioners create it up front.
 */
export const CHECKPOINT_TOPIC_CONFIG: Readonly<Record<string, string>> = { 'cleanup.policy': 'compact', 'max.message.bytes': String(1024 * 1024) };

export function checkpointTopicSpec(topic: string, replicationFactor = -1): TopicSpec {
  return { topic, partitions: 1, replicationFactor, config: CHECKPOINT_TOPIC_CONFIG };
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
    const brokerCount = (await admin.describeCluster()).brokers.length;
    const created = missing.map((spec) => ({ spec, replication: replicationFor(brokerCount, spec.replicationFactor) }));
    await admin.createTopics({
      // kafkajs' own wait gives up when a 4.x broker answers UNKNOWN_TOPIC_OR_PARTITION for a topic it has
      // just created (its metadata image lags the controller by a moment): waitForLeaders below retries that.
      waitForLeaders: false,
      topics: created.map(({ spec, replication }) => ({
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: replication.replicationFactor,
        configEntries: [
          ...LEDGER_TOPIC_CONFIG,
          ...Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
          ...(replication.minInsyncReplicas === undefined ? [] : [{ name: 'min.insync.replicas', value: String(replication.minInsyncReplicas) }]),
        ],
      })),
    });
    await waitForLeaders(admin, missing.map((spec) => spec.topic));
    changes.push(...created.map(({ spec, replication }) => `created ${spec.topic} with ${spec.partitions} partition(s)${replicasNote(replication)}`));
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

// What a broker answers about a topic created a moment ago, before every node has caught up with it.
const NOT_READY_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER']);

/** Resolves once every partition of the topics has a leader; a topic the broker does not know yet is waited for too. */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let problem: string;
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const leaderless = metadata.topics.flatMap((topic) => topic.partitions.filter((p) => p.leader < 0).map((p) => `${topic.name}-${p.partitionId}`));
      if (leaderless.length === 0 && metadata.topics.length === topics.length) {
        // The leader named in the metadata may not serve the partition yet (NOT_LEADER_FOR_PARTITION for a
        // moment on 4.x): asking it for the offsets proves it does.
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
      problem = `no leader yet for ${leaderless.join(', ') || 'some topics'}`;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type === undefined || !NOT_READY_YET.has(type)) throw error;
      problem = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms: ${problem}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function replicasNote({ replicationFactor, minInsyncReplicas }: Replication): string {
  if (replicationFactor < 0) return '';
  return ` × ${replicationFactor} replicas${minInsyncReplicas === undefined ? '' : ` (min.insync.replicas=${minInsyncReplicas})`}`;
}

/** The topic's partition count, or undefined when the topic does not exist. */
export async function partitionCount(admin: Admin, topic: string): Promise<number | undefined> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) return undefined;
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length;
}
