/**
 * `@chainlog/core/verify`: the verify core, the protocol's fork choice over every blockchain message in order
 * (verifier.ts, pure) and where the messages come from (sources.ts: the topic through the ChainFollower every
 * service uses, or a kcat dump). `chainlog chain verify` is its one command.
 */
export { ChainVerifier, formatVerifyReport, verifyMessages, type VerifyRejection, type VerifyReport, type VerifySource } from './verifier.js';
export { readDumpLines, verifyTopic, VerifySourceError, type VerifyTopicOptions } from './sources.js';
