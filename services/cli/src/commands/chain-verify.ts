// chainlog chain verify: the auditor's verify core (ChainVerifier: the protocol's fork choice over every
// message, in order) over the blockchain topic or a kcat dump, with progress for long chains.
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { ChainVerifier, formatVerifyReport, readDumpLines, type VerifyReport, type VerifySource } from '@chainlog/auditor';
import {
  Chain,
  ChainFollower,
  ConfigError,
  createKafka,
  createLogger,
  EnvReader,
  readConsensusConfig,
  type ConsensusParams,
} from '@chainlog/core';
import type { Kafka } from 'kafkajs';
import { CliError, durationOption, flag, optionalString, UsageError, type OptionValues } from '../args.js';
import type { Command, CommandContext } from '../context.js';

/** Flags that override the consensus environment variables the services read. */
const CONSENSUS_FLAGS = {
  difficulty: 'DIFFICULTY',
  'block-reward': 'BLOCK_REWARD',
  'allowed-miner-keys': 'ALLOWED_MINER_KEYS',
  'max-block-transactions': 'CONSENSUS_MAX_BLOCK_TRANSACTIONS',
} as const;

export const chainVerify: Command = {
  spec: {
    path: ['chain', 'verify'],
    summary: 'validate every block of the blockchain topic (or a kcat dump) from genesis',
    positionals: { min: 0, max: 0 },
    options: {
      topic: { type: 'string', value: 'NAME', description: 'blockchain topic to read (default blockchain)' },
      file: { type: 'string', value: 'PATH', description: 'a `kcat -C -e -t blockchain` dump instead of the topic; - for stdin' },
      difficulty: { type: 'string', value: 'BITS', description: 'minimum difficulty (env DIFFICULTY, default 16)' },
      'block-reward': { type: 'string', value: 'N', description: 'coinbase amount (env BLOCK_REWARD, default 50)' },
      'allowed-miner-keys': { type: 'string', value: 'HEX,...', description: 'permissioned chain: allowed miner keys (env ALLOWED_MINER_KEYS)' },
      'require-transaction-signatures': { type: 'boolean', description: 'every transaction must be signed (env REQUIRE_TRANSACTION_SIGNATURES)' },
      'max-block-transactions': { type: 'string', value: 'N', description: 'transactions per block (env CONSENSUS_MAX_BLOCK_TRANSACTIONS)' },
      timeout: { type: 'string', value: 'DURATION', description: 'give up reading the topic after this long (default 5m)' },
    },
    details:
      'The consensus parameters must be the ones the miners use, as for the auditor.\n' +
      'Exit code 0: every block accepted; 1: some block rejected (each is listed with its reason) or the source could not be read.\n' +
      'examples:\n  chainlog chain verify --difficulty 8\n  kcat -C -b localhost:9092 -t blockchain -e > chain.jsonl && chainlog chain verify --file chain.jsonl',
  },

  async run(context, options) {
    const params = consensusParams(options);
    const file = optionalString(options, 'file');
    const topic = optionalString(options, 'topic');
    if (file !== undefined && topic !== undefined) throw new UsageError('give either --topic or --file, not both');
    const report =
      file === undefined
        ? await verifyTopicWithProgress(context, topic ?? 'blockchain', params, durationOption(options, 'timeout', 300_000))
        : await verifyFileWithProgress(context, file, params);
    context.out.result(formatVerifyReport(report).trimEnd(), report);
    if (!report.ok) throw new CliError(`${report.rejected} of ${report.messages} blocks rejected`);
    return 0;
  },
};

function consensusParams(options: OptionValues): ConsensusParams {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [name, variable] of Object.entries(CONSENSUS_FLAGS)) {
    const value = optionalString(options, name);
    if (value !== undefined) env[variable] = value;
  }
  if (flag(options, 'require-transaction-signatures')) env['REQUIRE_TRANSACTION_SIGNATURES'] = 'true';
  const reader = new EnvReader(env);
  const params = readConsensusConfig(reader);
  try {
    reader.done();
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.problems.join('; '));
    throw error;
  }
  return params;
}

async function verifyFileWithProgress(context: CommandContext, file: string, params: ConsensusParams): Promise<VerifyReport> {
  const source: VerifySource = { kind: 'file', name: file, positionName: 'line' };
  const verifier = new ChainVerifier(params);
  let total: number | undefined;
  let read = 0;
  let chunks: AsyncIterable<Uint8Array | string>;
  if (file === '-') {
    chunks = context.stdin;
  } else {
    try {
      total = (await stat(file)).size;
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    chunks = createReadStream(file);
  }
  const counted = (async function* () {
    for await (const chunk of chunks) {
      read += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      yield chunk;
    }
  })();
  try {
    for await (const { position, bytes } of readDumpLines(counted)) {
      if (context.signal.aborted) throw new CliError('interrupted');
      verifier.apply(position, bytes);
      if (position % 100 === 0) {
        const percent = total ? ` (${Math.floor((read / total) * 100)}%)` : '';
        context.out.progress(`verifying ${file}: line ${position}${percent}, height ${verifier.chain.height}`);
      }
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  context.out.clearProgress();
  return verifier.report(source);
}

/**
 * Reads the topic from offset 0 to the end offset it has when the command starts, through the same
 * ChainFollower the services use (as the auditor's verifyTopic does), reporting progress on the way.
 */
async function verifyTopicWithProgress(context: CommandContext, topic: string, params: ConsensusParams, timeoutMs: number): Promise<VerifyReport> {
  const source: VerifySource = { kind: 'topic', name: topic, positionName: 'offset' };
  const logger = createLogger('cli', 'silent');
  const kafka = createKafka(
    { brokers: context.globals.brokers, clientId: 'chainlog-cli-verify', connectionTimeoutMs: 3000, requestTimeoutMs: 10_000 },
    logger,
    2,
  );
  const end = await endOffset(kafka, topic, context.globals.brokers);
  const chain = new Chain(params);
  const verifier = new ChainVerifier(chain);
  if (end === 0) return verifier.report(source);
  let report: VerifyReport | undefined;
  const applied = (offset: number): void => {
    if (offset === end - 1) report = verifier.report(source);
    else if (offset % 100 === 0) context.out.progress(`verifying ${topic}: offset ${offset + 1}/${end} (${Math.floor(((offset + 1) / end) * 100)}%), height ${chain.height}`);
  };
  const follower = new ChainFollower({
    kafka,
    topic,
    chain,
    logger,
    groupIdPrefix: 'chainlog-cli-verify',
    onAccepted: (block, offset) => {
      if (offset >= end) return;
      verifier.recordAccepted(block, offset);
      applied(offset);
    },
    onRejected: ({ offset, reason, detail, claimedIndex, claimedMiner }) => {
      if (offset >= end) return;
      verifier.recordRejected({
        position: offset,
        reason,
        detail,
        ...(claimedIndex === undefined ? {} : { claimedIndex }),
        ...(claimedMiner === undefined ? {} : { claimedMiner }),
      });
      applied(offset);
    },
  });
  try {
    await follower.start();
    await Promise.race([
      follower.waitUntilApplied(end - 1, timeoutMs),
      new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(new CliError('interrupted')), { once: true })),
    ]);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`reading ${topic} failed: ${(error as Error).message}`);
  } finally {
    await follower.stop().catch(() => undefined);
    context.out.clearProgress();
  }
  if (report === undefined) throw new CliError(`offset ${end - 1} of ${topic} was applied but not recorded`);
  return report;
}

async function endOffset(kafka: Kafka, topic: string, brokers: readonly string[]): Promise<number> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new CliError(`cannot reach Kafka at ${brokers.join(',')}: ${(error as Error).message}`);
  }
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new CliError(`topic "${topic}" does not exist`);
    const partitions = await admin.fetchTopicOffsets(topic);
    const [partition] = partitions;
    if (partitions.length !== 1 || partition === undefined) {
      throw new CliError(`topic "${topic}" has ${partitions.length} partitions; a blockchain topic has exactly 1`);
    }
    if (Number(partition.low) > 0) {
      throw new CliError(`offsets 0..${Number(partition.low) - 1} of "${topic}" were deleted: the chain cannot be verified from genesis`);
    }
    return Number(partition.high);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
