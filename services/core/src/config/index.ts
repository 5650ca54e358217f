/** `@chainlog/core/config`: environment parsing every service's config.ts builds on. */
export { ConfigError, EnvReader, readConfigOrExit } from './env.js';
export {
  DEFAULT_TOPIC_NAMES,
  LOG_LEVELS,
  readCommonConfig,
  SASL_MECHANISMS,
  type CommonConfig,
  type KafkaSettings,
  type LogLevel,
  type SaslMechanism,
  type TopicNames,
} from './common.js';
export { readConsensusConfig, readReplayWindow, readSignaturePolicy } from './consensus.js';
export { readCheckpointConfig } from './checkpoints.js';
