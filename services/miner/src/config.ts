// Every setting of the miner, parsed and validated in one place. A bad value is reported together with
// every other bad value in one ConfigError, and main.ts exits with code 2.
import { hostname } from 'node:os';
import { type CommonConfig, EnvReader, readCheckpointConfig, readCommonConfig, readConsensusConfig } from '@chainlog/core/config';
import type { CheckpointSettings } from '@chainlog/core/kafka';
import { ACCOUNT_ID_MAX_LENGTH, ACCOUNT_ID_PATTERN, type ConsensusParams, type Signer, signerFromSeed } from '@chainlog/core/protocol';

export const SERVICE_NAME = 'miner';
export const DEFAULT_HTTP_PORT = 8081;

/** Where the StatefulSet ordinal came from (logged at start-up, so a wrong one is easy to spot). */
export type OrdinalSource = 'MINER_ORDINAL' | 'POD_INDEX' | 'HOSTNAME' | 'default';

export interface MinerConfig extends CommonConfig {
  /** Consensus parameters: identical on every node (miners, auditor, verify). */
  consensus: ConsensusParams;
  /** The account the coinbase pays, and the `miner` field of every block mined here. */
  minerId: string;
  /** StatefulSet ordinal: the miner prefers the transactions partitions p with p mod replicas = ordinal. */
  ordinal: number;
  ordinalSource: OrdinalSource;
  /** Replicas of the StatefulSet; when unset, the group leader uses the highest live ordinal + 1. */
  replicas: number | undefined;
  /** Consumer group of the miners on the transactions topic. */
  groupId: string;
  /** How long the group waits for a silent miner before its partitions move to another (ms). */
  sessionTimeoutMs: number;
  /** Proof-of-work difficulty of the blocks mined here: the consensus minimum. */
  difficulty: number;
  /** Cut a block as soon as this many transactions are pending (coinbase not counted). */
  cutAtPendingTransactions: number;
  /** …or once the oldest pending entry has waited this long. */
  maxBlockWaitMs: number;
  /** The most new transactions a cut block takes (coinbase not counted): a backlog drains this many per block. */
  takeUpToTransactions: number;
  /** The most bytes a cut block's entries may take (estimated): keeps it under the blockchain topic's max.message.bytes. */
  takeUpToBytes: number;
  /** Signs blocks when MINER_PRIVATE_KEY (or _FILE) is set: required on a permissioned chain. */
  signer: Signer | undefined;
  /** Memory bound: a partition stops being read while this many entries of it are pending. */
  maxPendingPerPartition: number;
  /** Worker threads searching nonces. */
  powWorkers: number;
  /** Partitions of the transactions topic when this miner has to create it. */
  transactionsPartitions: number;
  /** Continue from and write checkpoints (with a replay window only): docs/protocol.md §5.1. */
  checkpoints: CheckpointSettings;
}

/**
 * 1000 signed transactions of the longest ids are ~600 KB; blocks stay well under Kafka's default
 * max.message.bytes (1 MiB) and a reader's cycle stays short, while a backlog drains 1000 per block.
 */
export const DEFAULT_TAKE_UP_TO_TRANSACTIONS = 1000;
/** Under Kafka's default message.max.bytes (1048588) with room for the header, sources and coinbase. */
export const DEFAULT_TAKE_UP_TO_BYTES = 900_000;

const ACCOUNT_ID = new RegExp(ACCOUNT_ID_PATTERN);
const PRIVATE_KEY_HEX = /^[0-9a-fA-F]{64}$/;
const GROUP_ID = { regex: /^[A-Za-z0-9._-]{1,249}$/, description: 'a consumer group id ([A-Za-z0-9._-], 1-249 chars)' };

export function readConfig(env: Record<string, string | undefined> = process.env): MinerConfig {
  const reader = new EnvReader(env);
  const common = readCommonConfig(reader, SERVICE_NAME, DEFAULT_HTTP_PORT);
  const consensus = readConsensusConfig(reader);
  const host = env.HOSTNAME?.trim() || hostname();

  const minerId = reader.string('MINER_ID', host);
  if (minerId.length > ACCOUNT_ID_MAX_LENGTH || !ACCOUNT_ID.test(minerId)) {
    reader.problem(
      `MINER_ID (default: the host name) must be an account id, 1..${ACCOUNT_ID_MAX_LENGTH} characters from ` +
        `A-Z a-z 0-9 . _ : @ -, got "${minerId}"`,
    );
  }
  const { ordinal, source } = readOrdinal(reader, host);
  const replicas = reader.optionalInteger('MINER_REPLICAS', { min: 1, max: 10_000 });

  const config: MinerConfig = {
    ...common,
    consensus,
    minerId,
    ordinal,
    ordinalSource: source,
    replicas,
    groupId: reader.string('MINER_GROUP_ID', 'chainlog-miners', GROUP_ID),
    sessionTimeoutMs: reader.integer('MINER_SESSION_TIMEOUT_MS', 30_000, { min: 6000, max: 300_000 }),
    difficulty: consensus.minDifficulty,
    cutAtPendingTransactions: reader.integer('CUT_AT_PENDING_TRANSACTIONS', 3, { min: 1, max: 100_000 }),
    maxBlockWaitMs: reader.integer('MAX_BLOCK_WAIT_MS', 1000, { min: 0, max: 3_600_000 }),
    takeUpToTransactions: 0, // set below: its default depends on the cut threshold and the consensus limit
    takeUpToBytes: reader.integer('TAKE_UP_TO_BYTES', DEFAULT_TAKE_UP_TO_BYTES, { min: 4096, max: 64 * 1024 * 1024 }),
    maxPendingPerPartition: reader.integer('MAX_PENDING_PER_PARTITION', 10_000, { min: 1, max: 10_000_000 }),
    signer: readSigner(reader),
    powWorkers: reader.integer('POW_WORKERS', 1, { min: 1, max: 64 }),
    transactionsPartitions: reader.integer('TRANSACTIONS_PARTITIONS', 2, { min: 1, max: 10_000 }),
    checkpoints: readCheckpointConfig(reader),
  };

  const consensusMax = consensus.maxBlockTransactions;
  config.takeUpToTransactions = readTakeUpTo(reader, config.cutAtPendingTransactions, consensusMax);
  if (config.maxPendingPerPartition < config.cutAtPendingTransactions) {
    reader.problem(
      `MAX_PENDING_PER_PARTITION (${config.maxPendingPerPartition}) must be at least CUT_AT_PENDING_TRANSACTIONS (${config.cutAtPendingTransactions})`,
    );
  }
  if (consensusMax !== undefined && config.cutAtPendingTransactions + 1 > consensusMax) {
    reader.problem(
      `CUT_AT_PENDING_TRANSACTIONS (${config.cutAtPendingTransactions}) plus the coinbase must fit ` +
        `CONSENSUS_MAX_BLOCK_TRANSACTIONS (${consensusMax}): set it to at most ${consensusMax - 1}`,
    );
  }
  const allowed = consensus.allowedMiners;
  if (allowed !== undefined) {
    if (config.signer === undefined) {
      reader.problem('ALLOWED_MINER_KEYS makes the chain permissioned: MINER_PRIVATE_KEY (or MINER_PRIVATE_KEY_FILE) is required');
    } else if (!allowed.includes(config.signer.publicKey)) {
      reader.problem(
        `the public key of MINER_PRIVATE_KEY (${config.signer.publicKey}) is not in ALLOWED_MINER_KEYS: every block it signs would be rejected`,
      );
    }
  }
  reader.renamed('MAX_BLOCK_TRANSACTIONS', 'CUT_AT_PENDING_TRANSACTIONS');
  reader.done();
  return config;
}

/**
 * TAKE_UP_TO_TRANSACTIONS: explicit, else the consensus limit minus the coinbase, else the larger of
 * DEFAULT_TAKE_UP_TO_TRANSACTIONS and the cut threshold. Never below the cut threshold (a block cut at N pending
 * takes them all) nor above the consensus limit (the block would be rejected `too-many-transactions`).
 */
function readTakeUpTo(reader: EnvReader, cutAt: number, consensusMax: number | undefined): number {
  const explicit = reader.optionalInteger('TAKE_UP_TO_TRANSACTIONS', { min: 1, max: 1_000_000 });
  if (explicit === undefined) return consensusMax !== undefined ? consensusMax - 1 : Math.max(DEFAULT_TAKE_UP_TO_TRANSACTIONS, cutAt);
  if (explicit < cutAt) reader.problem(`TAKE_UP_TO_TRANSACTIONS (${explicit}) must be at least CUT_AT_PENDING_TRANSACTIONS (${cutAt})`);
  if (consensusMax !== undefined && explicit + 1 > consensusMax) {
    reader.problem(
      `TAKE_UP_TO_TRANSACTIONS (${explicit}) plus the coinbase must fit CONSENSUS_MAX_BLOCK_TRANSACTIONS (${consensusMax}): set it to at most ${consensusMax - 1}`,
    );
  }
  return explicit;
}

/** MINER_ORDINAL, else POD_INDEX (the apps.kubernetes.io/pod-index label), else the `-<n>` suffix of the pod name. */
function readOrdinal(reader: EnvReader, host: string): { ordinal: number; source: OrdinalSource } {
  const range = { min: 0, max: 9999 };
  const explicit = reader.optionalInteger('MINER_ORDINAL', range);
  if (explicit !== undefined) return { ordinal: explicit, source: 'MINER_ORDINAL' };
  const podIndex = reader.optionalInteger('POD_INDEX', range);
  if (podIndex !== undefined) return { ordinal: podIndex, source: 'POD_INDEX' };
  const suffix = ordinalFromHostname(host);
  if (suffix !== undefined) return { ordinal: suffix, source: 'HOSTNAME' };
  return { ordinal: 0, source: 'default' };
}

/** The StatefulSet ordinal in a pod name such as `chainlog-miner-2`. */
export function ordinalFromHostname(host: string): number | undefined {
  const match = /-(0|[1-9][0-9]{0,3})$/.exec(host);
  return match === null ? undefined : Number(match[1]);
}

function readSigner(reader: EnvReader): Signer | undefined {
  const key = reader.secret('MINER_PRIVATE_KEY');
  if (key === undefined) return undefined;
  if (!PRIVATE_KEY_HEX.test(key)) {
    // Never echo the value: it is a secret.
    reader.problem('MINER_PRIVATE_KEY must be a raw Ed25519 private key (32-byte seed) as 64 hex digits');
    return undefined;
  }
  return signerFromSeed(Buffer.from(key, 'hex'));
}

/** What is safe to log about the configuration (no secrets). */
export function describeConfig(config: MinerConfig): Record<string, unknown> {
  return {
    brokers: config.kafka.brokers,
    topics: config.topics,
    httpPort: config.httpPort,
    minerId: config.minerId,
    ordinal: config.ordinal,
    ordinalSource: config.ordinalSource,
    replicas: config.replicas ?? 'from live members',
    groupId: config.groupId,
    difficulty: config.difficulty,
    blockReward: config.consensus.blockReward,
    permissioned: config.consensus.allowedMiners !== undefined,
    requireTransactionSignatures: config.consensus.requireTransactionSignatures === true,
    cutAtPendingTransactions: config.cutAtPendingTransactions,
    maxBlockWaitMs: config.maxBlockWaitMs,
    takeUpToTransactions: config.takeUpToTransactions,
    takeUpToBytes: config.takeUpToBytes,
    maxPendingPerPartition: config.maxPendingPerPartition,
    minerPublicKey: config.signer?.publicKey,
    powWorkers: config.powWorkers,
    replayWindowMs: config.consensus.replayWindowMs ?? 'none',
    checkpoints: config.checkpoints,
  };
}
