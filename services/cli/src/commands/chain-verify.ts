// chainlog chain verify, the one verify command: core's verify core (ChainVerifier: the protocol's fork
// choice over every message, in order) over the blockchain topic or a kcat dump, with progress for long
// chains. Exit 0: the chain verifies; 1: some block was rejected; 2: it could not be verified (usage, an
// unreadable source).
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { EnvReader, type KafkaSettings, readCommonConfig } from '@chainlog/core/config';
import { createKafka } from '@chainlog/core/kafka';
import { createLogger } from '@chainlog/core/logging';
import type { ConsensusParams } from '@chainlog/core/protocol';
import { ChainVerifier, formatVerifyReport, readDumpLines, verifyTopic, VerifySourceError, type VerifyReport, type VerifySource } from '@chainlog/core/verify';
import { CliError, durationOption, optionalString, UsageError } from '../args.js';
import { consensusParams, CONSENSUS_OPTIONS, doneOrUsageError, transactionsTopic } from '../consensus.js';
import type { Command, CommandContext } from '../context.js';

/** The blocks could not be read: no verdict on the chain, so not exit 1. */
const CANNOT_VERIFY = 2;

export const chainVerify: Command = {
  spec: {
    path: ['chain', 'verify'],
    summary: 'validate every block of the blockchain topic (or a kcat dump) from genesis',
    positionals: { min: 0, max: 0 },
    options: {
      topic: { type: 'string', value: 'NAME', description: 'blockchain topic to read (default blockchain)' },
      file: { type: 'string', value: 'PATH', description: 'a `kcat -C -e -t blockchain` dump instead of the topic; - for stdin' },
      ...CONSENSUS_OPTIONS,
      timeout: { type: 'string', value: 'DURATION', description: 'give up reading the topic after this long (default 5m)' },
    },
    details:
      'The consensus parameters are read like the services read them (environment, --config file), each overridable by its flag.\n' +
      'Exit code 0: every block accepted, or rejected only as a lost race (stale, fork); 1: some block rejected for another reason (each is listed with its reason); 2: the chain could not be verified (bad usage or parameters, an unreadable source).\n' +
      'examples:\n  chainlog chain verify --difficulty 8\n  kcat -C -b localhost:9092 -t blockchain -e > chain.jsonl && chainlog chain verify --file chain.jsonl',
  },

  async run(context, options) {
    const params = consensusParams(context.globals.consensusEnv, options);
    const kafka = kafkaSettings(context);
    const file = optionalString(options, 'file');
    const topic = optionalString(options, 'topic');
    if (file !== undefined && topic !== undefined) throw new UsageError('give either --topic or --file, not both');
    const report =
      file === undefined
        ? await verifyTopicWithProgress(context, kafka, topic ?? 'blockchain', params, durationOption(options, 'timeout', 300_000))
        : await verifyFileWithProgress(context, file, params);
    context.out.result(formatVerifyReport(report).trimEnd(), report);
    if (!report.ok) throw new CliError(`${report.rejected - report.races} of ${report.messages} blocks rejected for reasons other than lost races`);
    return 0;
  },
};

/**
 * --brokers, and KAFKA_SSL*, KAFKA_SASL* (e.g. the read-only chainlog-reader of a Kafka with ACLs),
 * KAFKA_*_TIMEOUT_MS as for the services; checked before anything is read. Every CLI command that reads Kafka uses it.
 */
export function kafkaSettings(context: CommandContext, clientId = 'chainlog-cli-verify'): KafkaSettings {
  const reader = new EnvReader({
    ...context.env,
    KAFKA_BROKERS: context.globals.brokers.join(','),
    KAFKA_CLIENT_ID: context.env['KAFKA_CLIENT_ID'] ?? clientId,
  });
  const { kafka } = readCommonConfig(reader, 'cli-verify', 0);
  doneOrUsageError(reader);
  return kafka;
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
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, CANNOT_VERIFY);
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
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, CANNOT_VERIFY);
  }
  context.out.clearProgress();
  return verifier.report(source);
}

/** Core's verifyTopic (the same ChainFollower the services use), with progress and Ctrl-C. */
async function verifyTopicWithProgress(context: CommandContext, settings: KafkaSettings, topic: string, params: ConsensusParams, timeoutMs: number): Promise<VerifyReport> {
  const logger = createLogger('cli', 'silent');
  const kafka = createKafka(settings, logger, 2);
  try {
    return await verifyTopic({
      kafka,
      topic,
      // Blocks claim ranges of the transactions topic (source coverage): the services' TOPIC_TRANSACTIONS.
      transactionsTopic: transactionsTopic(context.env),
      params,
      logger,
      timeoutMs,
      signal: context.signal,
      onProgress: ({ offset, end, height }) => {
        if (offset % 100 === 0) context.out.progress(`verifying ${topic}: offset ${offset + 1}/${end} (${Math.floor(((offset + 1) / end) * 100)}%), height ${height}`);
      },
    });
  } catch (error) {
    if (context.signal.aborted) throw new CliError('interrupted');
    if (error instanceof VerifySourceError) throw new CliError(error.message, CANNOT_VERIFY);
    throw new CliError(`reading ${topic} from Kafka at ${context.globals.brokers.join(',')} failed: ${(error as Error).message}`, CANNOT_VERIFY);
  } finally {
    context.out.clearProgress();
  }
}
