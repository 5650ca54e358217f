/**
 * Transitional: the named entry points (`@chainlog/core/protocol`, `/config`, `/logging`, `/metrics`, `/http`,
 * `/kafka`, `/service`, `/collections`) are the way in; this root entry only keeps branches written before them
 * building until they are merged, and goes away then. Import from the entry point that owns the name.
 */
export { ACCOUNT_ID_MAX_LENGTH, ACCOUNT_ID_PATTERN, type ApplyResult, assembleBlock, type AssembleBlockOptions, type Block, blockHeader, type BlockHeader, type CandidateBlock, Chain, type ChainTip, COINBASE_SENDER, coinbaseTransaction, coinbaseTransactionId, computeBlockHash, type ConsensusParams, decodeBlock, decodeTransactionInput, derivedTransactionId, encodeBlock, type FieldError, GENESIS_BLOCK, GENESIS_HASH, headerDigest, inclusionProof, type InclusionProof, inclusionProofOfHashes, leadingZeroBits, leafHash, MAX_DIFFICULTY, MAX_NONCE, meetsDifficulty, merkleRoot, merkleRootOfHashes, parseBlock, parseTransaction, parseTransactionInput, POW_KERNEL_SOURCE, proofOfWorkHash, REJECTION_REASONS, type RejectionReason, type Result, sealBlock, searchNonce, type Signer, signerFromPrivateKey, signerFromSeed, signTransaction, type SourceOffset, type SourcePosition, type SourceRange, toTransaction, type Transaction, TRANSACTION_ID_MAX_LENGTH, TRANSACTION_ID_PATTERN, TRANSACTION_INPUT_SCHEMA, transactionHash, type TransactionInput, transactionSigningBytes, verifyInclusionProof, verifySignature, verifyTransactionSignature, ZERO_HASH } from './protocol/index.js';
export { type CommonConfig, ConfigError, DEFAULT_TOPIC_NAMES, EnvReader, type KafkaSettings, LOG_LEVELS, type LogLevel, readCommonConfig, readConfigOrExit, readConsensusConfig, SASL_MECHANISMS, type SaslMechanism, type TopicNames } from './config/index.js';
export { createLogger, type Logger } from './logging/index.js';
export { createMetricsRegistry, METRIC_PREFIX } from './metrics/registry.js';
export { closeServer, createHttpApp, errorBody, type ErrorBody, HttpError, type HttpServiceOptions, listen, type Readiness } from './http/index.js';
export { type BlockRejection, ChainFollower, type ChainFollowerOptions, createKafka, ensureTopics, kafkaLevelToPino, partitionCount, type TopicSpec } from './kafka/index.js';
export { onShutdownSignal, runService, type ServiceContext, type ServiceDefinition, type ServiceParts } from './service/index.js';
export { ShardedMap } from './collections/sharded-map.js';
