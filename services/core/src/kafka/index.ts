/** `@chainlog/core/kafka`: the kafkajs edges every service shares. */
export { ChainFollower, type BlockRejection, type BlockVerdict, type ChainFollowerOptions, type SourceWait } from './chain-follower.js';
export { createKafka, kafkaLevelToPino } from './client.js';
export { chainlogTopics, ensureTopics, partitionCount, type ChainlogTopicOptions, type TopicSpec } from './topics.js';
export { TopicReader, type TopicMessage, type TopicReaderOptions } from './topic-reader.js';
