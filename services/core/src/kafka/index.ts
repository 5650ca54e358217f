/** `@chainlog/core/kafka`: the kafkajs edges every service shares. */
export { ChainFollower, type BlockRejection, type BlockVerdict, type ChainFollowerOptions, type SourceWait } from './chain-follower.js';
export { createKafka, kafkaLevelToPino } from './client.js';
export { CHECKPOINT_TOPIC_CONFIG, chainlogTopics, checkpointTopicSpec, ensureTopics, partitionCount, replicationFor, type ChainlogTopicOptions, type Replication, type TopicSpec, waitForLeaders } from './topics.js';
export { kafkaBackoffMs, waitForKafka, type WaitForKafkaOptions } from './wait-for-kafka.js';
export { describeTopicFailure, provisionTopics, type ProvisionTopicsOptions } from './provision-topics.js';
export { PARTITION_DISCOVERY_MS, SourceReader, type SourceReaderOptions } from './source-reader.js';
export { READER_SLICE_MS, readTopicToEnd, TopicReader, type ReadToEndOptions, type TopicMessage, type TopicReaderOptions } from './topic-reader.js';
export {
  CheckpointWriter,
  ensureCheckpointTopic,
  readCheckpointCandidates,
  probeMessageAt,
  restoreFromCheckpoint,
  type CheckpointCandidate,
  type MessageProbe,
  type RejectedCheckpoint,
  type RestoreOptions,
  type RestoreOutcome,
} from './checkpoint-store.js';
export { ChainCheckpoints, type ChainCheckpointsOptions, type CheckpointSettings, verificationSourceThread } from './chain-checkpoints.js';
export { BackgroundVerifier, type BackgroundVerifierOptions, type VerificationOutcome } from './background-verifier.js';
